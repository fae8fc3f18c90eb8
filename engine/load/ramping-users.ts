// Executor `ramping-users`: users follow stages (`10s:100,20s:1000`), added and removed as the
// profile rises and falls; a removed user finishes its current iteration (closed model).
import { profileFromStages, profileEnd, profilePeak } from './profile.js'
import { checkUsers, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'

export function planRampingUsers (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['startUsers', 'stages'], problems)
  const start = input.startUsers ?? 0
  checkUsers('startUsers', start, problems, 0)
  const stages = input.stages ?? []
  if (input.stages === null) problems.push('ramping-users needs stages, e.g. --stages 10s:100,20s:1000')
  for (const s of stages) checkUsers('a stage target', s.target, problems, 0)
  const profile = profileFromStages(start, stages)
  const peak = profilePeak(profile)
  if (stages.length > 0 && peak < 1) problems.push('ramping-users stages never reach 1 user')
  return outcome({
    executor: 'ramping-users',
    model: 'closed',
    profile,
    maxUsers: peak,
    preAllocatedUsers: start,
    durationMs: profileEnd(profile),
    iterations: null,
    stopAtFirstFailure: false,
    params: { startUsers: start, stages: stages.map(s => `${s.durationMs / 1000}s:${s.target}`).join(','), peakUsers: peak }
  }, problems)
}
