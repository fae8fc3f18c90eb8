// The parts of shard reports that are not metrics, merged: users and workers add up, error groups
// and failed checks combine by their key, isolation counts add (a user runs in one shard only, so
// its incidents are distinct), samples are kept up to the per-kind bound of a single run.
import type { CheckFailure, ErrorGroup, IsolationSummary, RunResult, Violation } from '../result/index.js'

/** The most samples a run keeps per violation kind (isolation/violations.ts keeps as many). */
const SAMPLES_PER_KIND = 10
const ROUTES_KEPT = 10

type Users = RunResult['users']

export function mergeUsers (results: readonly RunResult[], peakActive: number): Users {
  const sum = (k: keyof Users): number => results.reduce((n, r) => n + r.users[k], 0)
  return { planned: sum('planned'), allocated: sum('allocated'), peakActive, completed: sum('completed'), lost: sum('lost'), interrupted: sum('interrupted') }
}

export function mergeWorkers (results: readonly RunResult[]): Pick<RunResult, 'workers' | 'selfCheck'> {
  const w = { threads: 0, planned: 0, cohorts: 0 }
  const selfCheck = { checked: 0, retained: 0 }
  for (const r of results) {
    w.threads += r.workers.threads
    w.planned += r.workers.planned
    w.cohorts += r.workers.cohorts
    selfCheck.checked += r.selfCheck.checked
    selfCheck.retained += r.selfCheck.retained
  }
  return { workers: w, selfCheck }
}

/** Groups with the same cause are one group; its first user and sample come from the lowest shard. */
export function mergeErrors (results: readonly RunResult[]): RunResult['errors'] {
  const groups = new Map<string, ErrorGroup>()
  for (const r of results) {
    for (const g of r.errors.groups) {
      const key = JSON.stringify([g.phase, g.code, g.cause, g.method, g.route, g.status, g.at, g.message])
      const seen = groups.get(key)
      if (seen === undefined) groups.set(key, { ...g })
      else seen.count += g.count
    }
  }
  const list = [...groups.values()].sort((a, b) => b.count - a.count)
  return { count: results.reduce((n, r) => n + r.errors.count, 0), groups: list }
}

export function mergeCheckFailures (results: readonly RunResult[]): CheckFailure[] {
  const byCheck = new Map<string, CheckFailure>()
  for (const r of results) {
    for (const c of r.checkFailures) {
      const seen = byCheck.get(c.check)
      if (seen === undefined) byCheck.set(c.check, { ...c, first: { ...c.first } })
      else { seen.fails += c.fails; seen.total += c.total }
    }
  }
  return [...byCheck.values()].sort((a, b) => b.fails - a.fails)
}

export function mergeIsolation (results: readonly RunResult[]): IsolationSummary {
  const out: IsolationSummary = { violations: 0, byKind: {}, incidents: 0, incidentsByKind: {}, forgedCanaries: 0, samples: [], callerData: { probes: 0, routes: [] }, staleReads: { count: 0, beyondBudget: 0, samples: [] } }
  const perKind = new Map<string, number>()
  // samples taken in turn from each shard, so every shard's evidence is shown within the bound
  const longest = Math.max(0, ...results.map(r => r.isolation.samples.length))
  for (let k = 0; k < longest; k++) for (const r of results) { const v = r.isolation.samples[k]; if (v !== undefined) keepSample(out.samples, perKind, v) }
  for (const { isolation: i } of results) {
    out.violations += i.violations
    out.incidents += i.incidents
    out.forgedCanaries += i.forgedCanaries
    addCounts(out.byKind, i.byKind)
    addCounts(out.incidentsByKind, i.incidentsByKind)
    out.callerData.probes += i.callerData.probes
    for (const route of i.callerData.routes) if (out.callerData.routes.length < ROUTES_KEPT && !out.callerData.routes.includes(route)) out.callerData.routes.push(route)
    out.staleReads.count += i.staleReads.count
    out.staleReads.beyondBudget += i.staleReads.beyondBudget
    for (const s of i.staleReads.samples) if (out.staleReads.samples.length < SAMPLES_PER_KIND) out.staleReads.samples.push(s)
  }
  return out
}

function addCounts (into: Partial<Record<string, number>>, from: Partial<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + (n ?? 0)
}

function keepSample (samples: Violation[], perKind: Map<string, number>, v: Violation): void {
  const n = perKind.get(v.kind) ?? 0
  if (n >= SAMPLES_PER_KIND) return
  perKind.set(v.kind, n + 1)
  samples.push(v)
}

export function mergeEvents (results: readonly RunResult[]): RunResult['events'] {
  const e = { sent: 0, received: 0, lost: 0, duplicated: 0, reordered: 0, unreconciled: 0 }
  for (const r of results) for (const k of Object.keys(e) as Array<keyof typeof e>) e[k] += r.events[k]
  return e
}

/** The first-listed leak verdict of the worst kind: a leak anywhere is the run's leak. */
export function worstLeak (results: readonly RunResult[]): RunResult['leaks'] {
  const rank = { leak: 0, inconclusive: 1, 'no-leak': 2 } as const
  return results.flatMap(r => r.leaks === undefined ? [] : [r.leaks]).sort((a, b) => rank[a.verdict] - rank[b.verdict])[0]
}
