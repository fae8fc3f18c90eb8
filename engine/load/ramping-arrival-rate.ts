// Executor `ramping-arrival-rate`: the arrival rate follows stages (`10s:100,20s:500` in
// iterations per second), from `startRate` (open model, as constant-arrival-rate).
import { profileFromStages, profileEnd } from './profile.js'
import { checkRate, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'
import { openUsers } from './open-users.js'

export function planRampingArrivalRate (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['startRate', 'stages', 'users', 'maxUsers'], problems)
  const start = input.startRate ?? 0
  checkRate('startRate', start, problems)
  if (input.stages === null) problems.push('ramping-arrival-rate needs stages of rates, e.g. --stages 10s:100,20s:500')
  const stages = input.stages ?? []
  for (const s of stages) checkRate('a stage target', s.target, problems)
  const { pre, max } = openUsers(input, problems)
  const profile = profileFromStages(start, stages)
  return outcome({
    executor: 'ramping-arrival-rate',
    model: 'open',
    profile,
    maxUsers: max,
    preAllocatedUsers: pre,
    durationMs: profileEnd(profile),
    iterations: null,
    stopAtFirstFailure: false,
    params: { startRate: start, stages: stages.map(s => `${s.durationMs / 1000}s:${s.target}`).join(','), preAllocatedUsers: pre, maxUsers: max }
  }, problems)
}
