// Every deadline of a run, computed once on the main thread and handed to every cohort, so the
// main thread and the workers agree on when the load ends, when in-flight work is cut and when
// the whole run is aborted whatever happens.

/** Slack on top of every planned phase before the hard deadline aborts what is left. */
export const HARD_DEADLINE_SLACK_MS = 10_000
/**
 * and per user of this process: closing every user and socket after teardown and the self-check's
 * full GC grow with the users (a shard of 10,000 WebSocket users on a box loaded 6x over ran 10 s
 * past its teardown)
 */
export const HARD_DEADLINE_SLACK_PER_USER_MS = 2

export interface DeadlineInput {
  /** the plan's load phase (null: iteration-count runs, bounded by maxDurationMs) */
  durationMs: number | null
  maxDurationMs: number
  gracefulStopMs: number
  drainMs: number
  setupTimeoutMs: number
  /** setups run in at most this many waves per cohort (the setup concurrency); default 1 */
  setupWaves?: number
  teardownTimeoutMs: number
  /** slack before the hard deadline (default HARD_DEADLINE_SLACK_MS) */
  slackMs?: number
  /** users of this process: each adds HARD_DEADLINE_SLACK_PER_USER_MS to the hard deadline's slack */
  users?: number
}

/** ms after the start barrier opens, except `setupWaitMs` (after the first cohort is submitted). */
export interface Deadlines {
  /** no iteration starts after this */
  loadEndMs: number
  /** in-flight iterations are aborted after this */
  gracefulStopEndMs: number
  /** the main thread stops waiting for set-up cohorts and opens the start barrier after this */
  setupWaitMs: number
  /** nothing of the run outlives this: load, graceful stop, drain and teardown, plus slack */
  hardMs: number
}

export function planDeadlines (i: DeadlineInput): Deadlines {
  const loadEndMs = i.durationMs === null ? i.maxDurationMs : Math.min(i.durationMs, i.maxDurationMs)
  const gracefulStopEndMs = loadEndMs + i.gracefulStopMs
  const slack = i.slackMs ?? HARD_DEADLINE_SLACK_MS
  return {
    loadEndMs,
    gracefulStopEndMs,
    setupWaitMs: i.setupTimeoutMs * (i.setupWaves ?? 1) + slack,
    hardMs: gracefulStopEndMs + i.drainMs + i.teardownTimeoutMs + slack + (i.users ?? 0) * HARD_DEADLINE_SLACK_PER_USER_MS
  }
}
