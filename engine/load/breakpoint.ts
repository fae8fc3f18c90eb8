// Executor `breakpoint`: the arrival rate rises from `startRate` to `rate` over the duration
// until a threshold fails or arrivals are dropped (no free user is left); the run stops there and
// reports the load at which the target broke (open model).
import { checkRate, EXECUTOR_DEFAULTS, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'
import { openUsers } from './open-users.js'

export function planBreakpoint (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['startRate', 'rate', 'users', 'maxUsers', 'durationMs'], problems)
  if (input.rate === null) problems.push('breakpoint needs the rate to ramp up to, e.g. --rate 5000')
  const top = input.rate ?? 1
  const start = input.startRate ?? Math.min(EXECUTOR_DEFAULTS.breakpointStartRate, top)
  checkRate('rate', top, problems, Number.MIN_VALUE)
  checkRate('startRate', start, problems)
  if (start > top) problems.push(`startRate (${start}) is above the rate to ramp up to (${top})`)
  const d = input.durationMs ?? EXECUTOR_DEFAULTS.durationMs
  const { pre, max } = openUsers(input, problems)
  return outcome({
    executor: 'breakpoint',
    model: 'open',
    profile: [{ atMs: 0, value: start }, { atMs: d, value: top }],
    maxUsers: max,
    preAllocatedUsers: pre,
    durationMs: d,
    iterations: null,
    stopAtFirstFailure: true,
    params: { startRate: start, rate: top, durationMs: d, preAllocatedUsers: pre, maxUsers: max }
  }, problems)
}
