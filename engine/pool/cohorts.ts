// Users -> cohorts (Piscina tasks). Cohorts are big enough that per-task overhead vanishes and
// small enough that the pool can balance them; there are at least as many cohorts as threads.
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
    cohorts.push({ id, firstUser: first, size: Math.min(size, users - first) })
  }
  return cohorts
}
