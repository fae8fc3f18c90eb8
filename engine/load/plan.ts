// What every executor produces: a validated plan of users or arrivals over the load phase.
import type { ExecutorName, ProfilePoint } from '../result/index.js'
import type { Stage } from './profile.js'


/** The executor part of run() options after durations are parsed (null: not given). */
export interface ExecutorInput {
  executor: ExecutorName
  users: number | null
  maxUsers: number | null
  peakUsers: number | null
  startUsers: number | null
  rate: number | null
  startRate: number | null
  stages: Stage[] | null
  durationMs: number | null
  iterations: number | null
}

export interface ExecutionPlan {
  executor: ExecutorName
  /** closed: a number of users loop over iterations; open: iterations arrive at a rate */
  model: 'closed' | 'open'
  /** closed: users over time; open: iterations per second over time (piecewise linear, ms since the start) */
  profile: ProfilePoint[]
  /** the most users the plan can need: cohorts are planned for this many */
  maxUsers: number
  /** users set up before the start barrier (open model: pre-allocated; closed: those needed at once) */
  preAllocatedUsers: number
  /** length of the load phase, or null when only iterations bound it */
  durationMs: number | null
  /** iterations per user (constant-users only) */
  iterations: number | null
  /** breakpoint: stop at the first failing threshold and report the load there */
  stopAtFirstFailure: boolean
  /** the executor's parameters as the report shows them */
  params: Record<string, number | string | null>
}

export type PlanOutcome = { plan: ExecutionPlan, problems: [] } | { plan: null, problems: string[] }

/** Executor defaults, in one place (the run-wide ones are in runner/options.ts). */
export const EXECUTOR_DEFAULTS = {
  users: 1000,
  durationMs: 10_000,
  /** open model: users set up before the start, and the most it may add */
  preAllocatedUsers: 100,
  maxUsers: 1000,
  /** spike: the baseline is this share of the peak */
  spikeBaseShare: 0.1,
  /** breakpoint: first rate of the ramp */
  breakpointStartRate: 10
} as const

export const MAX_USERS = 100_000
export const MAX_RATE = 1_000_000

/** Fields an executor does not use are mistakes worth a line, not silently ignored. */
export function unusedFields (input: ExecutorInput, used: Array<keyof ExecutorInput>, problems: string[]): void {
  const flag: Partial<Record<keyof ExecutorInput, string>> = {
    users: 'users', maxUsers: 'maxUsers', peakUsers: 'peakUsers', startUsers: 'startUsers', rate: 'rate', startRate: 'startRate', stages: 'stages', durationMs: 'duration', iterations: 'iterations'
  }
  for (const k of Object.keys(flag) as Array<keyof ExecutorInput>) {
    if (!used.includes(k) && input[k] !== null) problems.push(`${flag[k]} does not apply to the ${input.executor} executor`)
  }
}

export function checkUsers (what: string, n: number, problems: string[], min = 1): void {
  if (!Number.isInteger(n) || n < min || n > MAX_USERS) problems.push(`${what} must be an integer from ${min} to ${MAX_USERS} (got ${n})`)
}

export function checkRate (what: string, r: number, problems: string[], min = 0): void {
  if (typeof r !== 'number' || !Number.isFinite(r) || r < min || r > MAX_RATE) problems.push(`${what} must be a number of iterations per second from ${min} to ${MAX_RATE} (got ${r})`)
}

export function outcome (plan: ExecutionPlan, problems: string[]): PlanOutcome {
  return problems.length > 0 ? { plan: null, problems } : { plan, problems: [] }
}
