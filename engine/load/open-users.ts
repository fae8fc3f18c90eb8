// Open-model executors: how many users are set up before the start and how many may be added.
import { checkUsers, EXECUTOR_DEFAULTS, type ExecutorInput } from './plan.js'

export function openUsers (input: ExecutorInput, problems: string[]): { pre: number, max: number } {
  const pre = input.users ?? Math.min(EXECUTOR_DEFAULTS.preAllocatedUsers, input.maxUsers ?? Infinity)
  const max = input.maxUsers ?? Math.max(pre, EXECUTOR_DEFAULTS.maxUsers)
  checkUsers('users (pre-allocated)', pre, problems)
  checkUsers('maxUsers', max, problems)
  if (max < pre) problems.push(`maxUsers (${max}) is below the pre-allocated users (${pre})`)
  return { pre, max }
}
