// Violation records: counted by kind without bound, sampled with a bound (memory never grows
// with the count).
import type { IsolationSummary, Violation, ViolationKind } from '../result/index.js'


export interface ViolationDelta {
  counts: Partial<Record<ViolationKind, number>>
  samples: Violation[]
  forged: number
}

export const SAMPLES_PER_KIND = 10

export class ViolationLog {
  readonly #counts = new Map<ViolationKind, number>()
  readonly #sampled = new Map<ViolationKind, number>()
  #samples: Violation[] = []
  #counted: Partial<Record<ViolationKind, number>> = {}
  #forged = 0

  add (v: Violation): void {
    this.#counts.set(v.kind, (this.#counts.get(v.kind) ?? 0) + 1)
    this.#counted[v.kind] = (this.#counted[v.kind] ?? 0) + 1
    const sampled = this.#sampled.get(v.kind) ?? 0
    if (sampled < SAMPLES_PER_KIND) {
      this.#sampled.set(v.kind, sampled + 1)
      this.#samples.push(v)
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
    const delta = { counts: this.#counted, samples: this.#samples, forged: this.#forged }
    this.#counted = {}
    this.#samples = []
    this.#forged = 0
    return delta
  }
}


/** Main-thread merge of every cohort's deltas. */
export class IsolationAggregator {
  readonly #summary: IsolationSummary = { violations: 0, byKind: {}, forgedCanaries: 0, samples: [] }
  readonly #sampled = new Map<ViolationKind, number>()

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
  }

  summary (): IsolationSummary {
    return { ...this.#summary, byKind: { ...this.#summary.byKind }, samples: [...this.#summary.samples] }
  }
}
