// Executor `constant-arrival-rate`: iterations start at a fixed rate whether or not earlier ones
// finished (open model); a free user takes each one, more are set up up to maxUsers, and an
// arrival that finds none is counted in `dropped.iterations`.
import { checkRate, EXECUTOR_DEFAULTS, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'
import { openUsers } from './open-users.js'

export function planConstantArrivalRate (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['rate', 'users', 'maxUsers', 'durationMs'], problems)
  if (input.rate === null) problems.push('constant-arrival-rate needs a rate (iterations per second), e.g. --rate 200')
  const rate = input.rate ?? 1
  checkRate('rate', rate, problems, Number.MIN_VALUE)
  const d = input.durationMs ?? EXECUTOR_DEFAULTS.durationMs
  const { pre, max } = openUsers(input, problems)
  return outcome({
    executor: 'constant-arrival-rate',
    model: 'open',
    profile: [{ atMs: 0, value: rate }, { atMs: d, value: rate }],
    maxUsers: max,
    preAllocatedUsers: pre,
    durationMs: d,
    iterations: null,
    stopAtFirstFailure: false,
    params: { rate, durationMs: d, preAllocatedUsers: pre, maxUsers: max }
  }, problems)
}
