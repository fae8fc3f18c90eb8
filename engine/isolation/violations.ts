// Violation records: counted by kind without bound, sampled with a bound (memory never grows
// with the count). Incidents (distinct user, owner, route, kind) are remembered up to a bound,
// as are the notes that are not violations: caller-data probes and stale reads.
import type { IsolationSummary, StaleRead, Violation, ViolationKind } from '../result/index.js'
import { routeTemplate } from '../shared/index.js'

export interface ViolationDelta {
  counts: Partial<Record<ViolationKind, number>>
  samples: Violation[]
  forged: number
  /** incident keys this cohort saw for the first time since the last drain */
  incidents?: string[]
  /** caller-data probes by route */
  callerData?: Record<string, number>
  stale?: { within: number, beyond: number, samples: StaleRead[] }
}

export const SAMPLES_PER_KIND = 10
/** distinct incidents remembered (per cohort and run-wide); beyond it they are no longer told apart */
export const INCIDENTS_TRACKED = 100_000
const ROUTES_KEPT = 10
const SEP = '\u0000'

/** The incident a violation belongs to: who saw whose data, where (route or channel), how. */
export function incidentKey (v: Pick<Violation, 'kind' | 'user' | 'owner' | 'where'>): string {
  const w = v.where
  const route = w.channel !== undefined ? `ws ${w.channel}` : w.path !== undefined ? `${w.method ?? ''} ${routeTemplate(w.path)}`.trim() : w.part
  return [v.kind, v.user, v.owner, route].join(SEP)
}

const kindOfIncident = (key: string): ViolationKind => key.slice(0, key.indexOf(SEP)) as ViolationKind

export class ViolationLog {
  readonly #counts = new Map<ViolationKind, number>()
  readonly #sampled = new Map<ViolationKind, number>()
  readonly #incidents = new Set<string>()
  #samples: Violation[] = []
  #counted: Partial<Record<ViolationKind, number>> = {}
  #newIncidents: string[] = []
  #callerData: Record<string, number> = {}
  #stale = { within: 0, beyond: 0, samples: [] as StaleRead[] }
  #staleSampled = 0
  #forged = 0

  add (v: Violation): void {
    this.#counts.set(v.kind, (this.#counts.get(v.kind) ?? 0) + 1)
    this.#counted[v.kind] = (this.#counted[v.kind] ?? 0) + 1
    const sampled = this.#sampled.get(v.kind) ?? 0
    if (sampled < SAMPLES_PER_KIND) {
      this.#sampled.set(v.kind, sampled + 1)
      this.#samples.push(v)
    }
    const key = incidentKey(v)
    if (this.#incidents.size < INCIDENTS_TRACKED && !this.#incidents.has(key)) {
      this.#incidents.add(key)
      this.#newIncidents.push(key)
    }
  }

  callerData (route: string): void {
    this.#callerData[route] = (this.#callerData[route] ?? 0) + 1
  }

  staleRead (s: StaleRead): void {
    if (s.withinBudget) this.#stale.within++
    else this.#stale.beyond++
    if (this.#staleSampled < SAMPLES_PER_KIND) {
      this.#staleSampled++
      this.#stale.samples.push(s)
    }
  }

  forged (n: number): void {
    this.#forged += n
  }

  get total (): number {
    let n = 0
    for (const c of this.#counts.values()) n += c
    return n
  }

  /** What changed since the last drain. */
  drain (): ViolationDelta {
    const delta: ViolationDelta = { counts: this.#counted, samples: this.#samples, forged: this.#forged }
    if (this.#newIncidents.length > 0) delta.incidents = this.#newIncidents
    if (Object.keys(this.#callerData).length > 0) delta.callerData = this.#callerData
    if (this.#stale.within + this.#stale.beyond > 0) delta.stale = this.#stale
    this.#counted = {}
    this.#samples = []
    this.#forged = 0
    this.#newIncidents = []
    this.#callerData = {}
    this.#stale = { within: 0, beyond: 0, samples: [] }
    return delta
  }
}


/** Main-thread merge of every cohort's deltas. */
export class IsolationAggregator {
  readonly #summary: IsolationSummary = {
    violations: 0,
    byKind: {},
    incidents: 0,
    incidentsByKind: {},
    forgedCanaries: 0,
    samples: [],
    callerData: { probes: 0, routes: [] },
    staleReads: { count: 0, beyondBudget: 0, samples: [] }
  }

  readonly #sampled = new Map<ViolationKind, number>()
  readonly #incidents = new Set<string>()

  add (d: ViolationDelta): void {
    const s = this.#summary
    for (const k of Object.keys(d.counts) as ViolationKind[]) {
      const n = d.counts[k] ?? 0
      s.violations += n
      s.byKind[k] = (s.byKind[k] ?? 0) + n
    }
    s.forgedCanaries += d.forged
    for (const v of d.samples) {
      const sampled = this.#sampled.get(v.kind) ?? 0
      if (sampled < SAMPLES_PER_KIND) {
        this.#sampled.set(v.kind, sampled + 1)
        s.samples.push(v)
      }
    }
    for (const key of d.incidents ?? []) {
      if (this.#incidents.size >= INCIDENTS_TRACKED || this.#incidents.has(key)) continue
      this.#incidents.add(key)
      s.incidents++
      const kind = kindOfIncident(key)
      s.incidentsByKind[kind] = (s.incidentsByKind[kind] ?? 0) + 1
    }
    for (const [route, n] of Object.entries(d.callerData ?? {})) {
      s.callerData.probes += n
      if (s.callerData.routes.length < ROUTES_KEPT && !s.callerData.routes.includes(route)) s.callerData.routes.push(route)
    }
    if (d.stale !== undefined) {
      s.staleReads.count += d.stale.within + d.stale.beyond
      s.staleReads.beyondBudget += d.stale.beyond
      for (const r of d.stale.samples) if (s.staleReads.samples.length < SAMPLES_PER_KIND) s.staleReads.samples.push(r)
    }
  }

  summary (): IsolationSummary {
    const s = this.#summary
    return {
      ...s,
      byKind: { ...s.byKind },
      incidentsByKind: { ...s.incidentsByKind },
      samples: [...s.samples],
      callerData: { probes: s.callerData.probes, routes: [...s.callerData.routes] },
      staleReads: { ...s.staleReads, samples: [...s.staleReads.samples] }
    }
  }
}
