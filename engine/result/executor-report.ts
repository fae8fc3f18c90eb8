// How load was applied, as reported: the executor, its planned profile, and where a breakpoint run broke.

export const EXECUTORS = ['constant-users', 'ramping-users', 'constant-arrival-rate', 'ramping-arrival-rate', 'spike', 'breakpoint'] as const
export type ExecutorName = typeof EXECUTORS[number]

export interface ProfilePoint {
  /** ms since the start barrier opened */
  atMs: number
  value: number
}

export interface BreakpointReport {
  broke: boolean
  /** seconds of load when it broke (the end of the failing second) */
  atS: number | null
  /** the plan's arrival rate then, and what was achieved in that second (iterations/s) */
  targetRate: number | null
  achievedRate: number | null
  activeUsers: number | null
  reason: string | null
}
