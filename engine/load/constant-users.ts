// Executor `constant-users`: a fixed number of users, each iterating for a duration and/or a
// number of iterations. Validated config in, plan out (k6's model).
import type { CohortPlan } from '../pool/index.js'

export interface ConstantUsersConfig {
  executor: 'constant-users'
  users: number
  durationMs: number | null
  iterations: number | null
  gracefulStopMs: number
  /** bound on the load phase when only iterations are given */
  maxDurationMs: number
  /** event stream drain after the load phase */
  drainMs: number
}

export const MAX_USERS = 100_000

/** Problems with the config, one readable line each (empty when valid). */
export function validateConstantUsers (c: ConstantUsersConfig): string[] {
  const problems: string[] = []
  if (!Number.isInteger(c.users) || c.users < 1 || c.users > MAX_USERS) problems.push(`users must be an integer from 1 to ${MAX_USERS} (got ${c.users})`)
  if (c.iterations !== null && (!Number.isInteger(c.iterations) || c.iterations < 1)) problems.push(`iterations must be a positive integer (got ${c.iterations})`)
  if (c.durationMs !== null && c.durationMs <= 0) problems.push('duration must be greater than 0')
  if (c.durationMs === null && c.iterations === null) problems.push('give a duration, a number of iterations, or both')
  return problems
}

export function planConstantUsers (c: ConstantUsersConfig): CohortPlan {
  return {
    durationMs: c.durationMs,
    iterations: c.iterations,
    gracefulStopMs: c.gracefulStopMs,
    drainMs: c.drainMs,
    maxDurationMs: c.durationMs === null ? c.maxDurationMs : Math.min(c.durationMs, c.maxDurationMs)
  }
}
