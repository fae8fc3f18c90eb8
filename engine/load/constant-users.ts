// Executor `constant-users`: a fixed number of users, each iterating for a duration and/or a
// number of iterations (closed model).
import { checkUsers, EXECUTOR_DEFAULTS, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'

export function planConstantUsers (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['users', 'durationMs', 'iterations'], problems)
  const users = input.users ?? EXECUTOR_DEFAULTS.users
  checkUsers('users', users, problems)
  if (input.iterations !== null && (!Number.isInteger(input.iterations) || input.iterations < 1)) problems.push(`iterations must be a positive integer (got ${input.iterations})`)
  const durationMs = input.durationMs ?? (input.iterations === null ? EXECUTOR_DEFAULTS.durationMs : null)
  return outcome({
    executor: 'constant-users',
    model: 'closed',
    profile: [{ atMs: 0, value: users }, { atMs: durationMs ?? 0, value: users }],
    maxUsers: users,
    preAllocatedUsers: users,
    durationMs,
    iterations: input.iterations,
    stopAtFirstFailure: false,
    params: { users, durationMs, iterations: input.iterations }
  }, problems)
}
