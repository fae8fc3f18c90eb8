// Executor `spike`: a baseline of users, a sudden rise to the peak, a hold, the fall back and a
// recovery period at the baseline (a ramping-users shape; closed model).
import { profilePeak } from './profile.js'
import { checkUsers, EXECUTOR_DEFAULTS, outcome, unusedFields, type ExecutorInput, type PlanOutcome } from './plan.js'

/** shares of the duration: baseline, rise, peak, fall, recovery */
const SHAPE = [0.3, 0.1, 0.2, 0.1, 0.3] as const

export function planSpike (input: ExecutorInput): PlanOutcome {
  const problems: string[] = []
  unusedFields(input, ['users', 'peakUsers', 'durationMs'], problems)
  const peak = input.peakUsers ?? EXECUTOR_DEFAULTS.users
  const base = input.users ?? Math.max(1, Math.round(peak * EXECUTOR_DEFAULTS.spikeBaseShare))
  checkUsers('peakUsers', peak, problems)
  checkUsers('users (the baseline)', base, problems)
  if (base > peak) problems.push(`the spike's baseline (${base} users) is above its peak (${peak})`)
  const d = input.durationMs ?? EXECUTOR_DEFAULTS.durationMs
  const at = (i: number): number => Math.round(SHAPE.slice(0, i).reduce((a, b) => a + b, 0) * d)
  const profile = [
    { atMs: 0, value: base }, { atMs: at(1), value: base }, { atMs: at(2), value: peak },
    { atMs: at(3), value: peak }, { atMs: at(4), value: base }, { atMs: d, value: base }
  ]
  return outcome({
    executor: 'spike',
    model: 'closed',
    profile,
    maxUsers: profilePeak(profile),
    preAllocatedUsers: base,
    durationMs: d,
    iterations: null,
    stopAtFirstFailure: false,
    params: { users: base, peakUsers: peak, durationMs: d }
  }, problems)
}
