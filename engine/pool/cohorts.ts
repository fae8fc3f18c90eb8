// Users -> cohorts (Piscina tasks). Cohorts are big enough that per-task overhead vanishes and
// small enough that the pool can balance them; there are at least as many cohorts as threads.
// Each cohort also learns its part of the executor's plan: when it is first needed (a ramp
// submits cohorts as it rises), and in the open model its share of the arrival rate.
import { levelWindow, type ExecutionPlan } from '../load/index.js'
import type { CohortSpec } from './messages.js'

export const MIN_COHORT = 50
export const MAX_COHORT = 250

export function planCohorts (users: number, threads: number, cohortSize?: number): CohortSpec[] {
  const auto = Math.min(
    Math.max(Math.ceil(users / (threads * 4)), MIN_COHORT),
    MAX_COHORT,
    Math.ceil(users / threads)
  )
  const size = Math.max(1, cohortSize ?? auto)
  const cohorts: CohortSpec[] = []
  for (let first = 0, id = 0; first < users; first += size, id++) {
    const n = Math.min(size, users - first)
    cohorts.push({ id, firstUser: first, size: n, initialUsers: n, startAtMs: 0, rateShare: 0, phase: 0, setupShare: n })
  }
  return cohorts
}

export function planCohortsFor (plan: ExecutionPlan, threads: number, cohortSize?: number): CohortSpec[] {
  const cohorts = planCohorts(plan.maxUsers, threads, cohortSize)
  if (plan.model === 'closed') {
    for (const c of cohorts) c.startAtMs = levelWindow(plan.profile, c.firstUser + 1)?.fromMs ?? 0
    return cohorts
  }
  // open: pre-allocated users and the rate split in proportion to cohort size (largest remainder)
  const exact = cohorts.map(c => plan.preAllocatedUsers * c.size / plan.maxUsers)
  for (const [i, c] of cohorts.entries()) c.initialUsers = Math.floor(exact[i]!)
  let left = plan.preAllocatedUsers - cohorts.reduce((n, c) => n + c.initialUsers, 0)
  for (const i of exact.map((_v, i) => i).sort((a, b) => (exact[b]! % 1) - (exact[a]! % 1))) {
    if (left <= 0) break
    cohorts[i]!.initialUsers++
    left--
  }
  for (const [i, c] of cohorts.entries()) {
    c.rateShare = c.size / plan.maxUsers
    c.phase = (i + 0.5) / cohorts.length
  }
  return cohorts
}

/**
 * Splits the run's setup concurrency between cohorts in proportion to their size (at least one
 * each), so at most about `limit` users are in setup at once across every thread. Returns the
 * most setup waves a cohort runs, which bounds how long the start barrier waits for setups.
 */
export function assignSetupShares (cohorts: CohortSpec[], limit: number): number {
  const total = cohorts.reduce((n, c) => n + c.size, 0)
  let waves = 1
  for (const c of cohorts) {
    c.setupShare = Math.max(1, Math.floor(limit * c.size / Math.max(1, total)))
    waves = Math.max(waves, Math.ceil(c.initialUsers / c.setupShare))
  }
  return waves
}

/**
 * A plan of several scenarios: each entry's cohorts planned as a run of its own, then numbered
 * on across the run (cohort ids, and user ids through `userBase`) and marked with their entry.
 */
export function planScenarioCohorts (entries: ReadonlyArray<{ name: string, plan: ExecutionPlan }>, threads: number, cohortSize?: number): CohortSpec[] {
  const cohorts: CohortSpec[] = []
  let userBase = 0
  for (const e of entries) {
    for (const c of planCohortsFor(e.plan, threads, cohortSize)) cohorts.push({ ...c, id: cohorts.length, scenario: e.name, userBase })
    userBase += e.plan.maxUsers
  }
  return cohorts
}
