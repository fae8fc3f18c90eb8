// Users -> cohorts (Piscina tasks). Cohorts are big enough that per-task overhead vanishes and
// small enough that the pool can balance them; there are at least as many cohorts as threads.
// Each cohort also learns its part of the executor's plan: when it is first needed (a ramp
// submits cohorts as it rises), and in the open model its share of the arrival rate.
import { levelWindow, shardSlice, type ExecutionPlan, type Shard } from '../load/index.js'
import type { CohortSpec } from './messages.js'

export const MIN_COHORT = 50
export const MAX_COHORT = 250

/** Cohorts for the users [from, to) of a plan (`firstUser` counts from the plan's first user). */
export function planCohorts (users: number, threads: number, cohortSize?: number, from = 0): CohortSpec[] {
  const n = users - from
  const auto = Math.min(
    Math.max(Math.ceil(n / (threads * 4)), MIN_COHORT),
    MAX_COHORT,
    Math.ceil(n / threads)
  )
  const size = Math.max(1, cohortSize ?? auto)
  const cohorts: CohortSpec[] = []
  for (let first = from, id = 0; first < users; first += size, id++) {
    const k = Math.min(size, users - first)
    cohorts.push({ id, firstUser: first, size: k, initialUsers: k, startAtMs: 0, rateShare: 0, phase: 0, setupShare: k })
  }
  return cohorts
}

/** The cohorts of a plan, or of a shard's slice of it (see load/shard.ts). */
export function planCohortsFor (plan: ExecutionPlan, threads: number, cohortSize?: number, shard: Shard | null = null): CohortSpec[] {
  const users = shardSlice(plan.maxUsers, shard)
  const cohorts = planCohorts(users.to, threads, cohortSize, users.from)
  if (plan.model === 'closed') {
    for (const c of cohorts) c.startAtMs = levelWindow(plan.profile, c.firstUser + 1)?.fromMs ?? 0
    return cohorts
  }
  // open: the shard's pre-allocated users, split in proportion to cohort size (largest remainder)
  const pre = shardSlice(plan.preAllocatedUsers, shard)
  const preAllocated = pre.to - pre.from
  const exact = cohorts.map(c => preAllocated * c.size / (users.to - users.from))
  for (const [i, c] of cohorts.entries()) c.initialUsers = Math.floor(exact[i]!)
  let left = preAllocated - cohorts.reduce((n, c) => n + c.initialUsers, 0)
  for (const i of exact.map((_v, i) => i).sort((a, b) => (exact[b]! % 1) - (exact[a]! % 1))) {
    if (left <= 0) break
    cohorts[i]!.initialUsers++
    left--
  }
  // the rate by each cohort's share of all the run's users, and its first arrival by its place
  // among them: with equal cohorts in one process, (i + 0.5) / cohorts; across shards the
  // arrivals interleave as they would in one process
  for (const c of cohorts) {
    c.rateShare = c.size / plan.maxUsers
    c.phase = (c.firstUser + c.size / 2) / plan.maxUsers
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
export function planScenarioCohorts (entries: ReadonlyArray<{ name: string, plan: ExecutionPlan }>, threads: number, cohortSize?: number, shard: Shard | null = null): CohortSpec[] {
  const cohorts: CohortSpec[] = []
  let userBase = 0
  for (const e of entries) {
    for (const c of planCohortsFor(e.plan, threads, cohortSize, shard)) cohorts.push({ ...c, id: cohorts.length, scenario: e.name, userBase })
    userBase += e.plan.maxUsers
  }
  return cohorts
}
