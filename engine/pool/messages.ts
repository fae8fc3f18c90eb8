// Main <-> worker message types. A cohort is one Piscina task; it talks back over its own MessagePort.
import type { MessagePort } from 'node:worker_threads'
import type { MetricsDelta } from '../metrics/index.js'
import type { DirectoryEntry, ViolationDelta } from '../isolation/index.js'

export interface CohortSpec {
  id: number
  /** global index of the cohort's first user */
  firstUser: number
  size: number
}

export interface CohortPlan {
  /** stop starting iterations this long after the start barrier (null: no time limit) */
  durationMs: number | null
  /** iterations per user (null: as many as fit in durationMs) */
  iterations: number | null
  /** in-flight iterations get this long to finish after the deadline before they are aborted */
  gracefulStopMs: number
  /** upper bound of the load phase whatever the plan (guards iteration-count runs) */
  maxDurationMs: number
  /** after the load phase, how long sockets get to end and reconcile their event streams */
  drainMs: number
}

export interface CohortTask {
  runId: string
  cohort: CohortSpec
  scenarioUrl: string
  origin: string
  plan: CohortPlan
  setupTimeoutMs: number
  teardownTimeoutMs: number
  requestTimeoutMs: number
  tickMs: number
  barrier: SharedArrayBuffer
  port: MessagePort
  /** HMAC key of this run's canaries; never leaves memory */
  secret: string
  isolation: { scan: boolean, barrierTimeoutMs: number }
}

export type Phase = 'setup' | 'iteration' | 'teardown'

/** Errors are grouped by phase and message in the worker; counts travel, not every occurrence. */
export interface ErrorGroup {
  phase: Phase
  message: string
  code?: string
  /** first user that hit it */
  user: string
  count: number
}

export interface TickMessage {
  type: 'tick'
  cohortId: number
  threadId: number
  delta: MetricsDelta
  /** users of this cohort currently in the load phase */
  active: number
  errors: ErrorGroup[]
  violations: ViolationDelta
}

export interface ReadyMessage {
  type: 'ready'
  cohortId: number
  threadId: number
  /** users whose setup failed; they do not take part in the load phase */
  setupFailed: number
  /** resources and credentials of the cohort's set-up users, for other users' probes */
  directory: DirectoryEntry[]
}

export type WorkerMessage = TickMessage | ReadyMessage

/** main -> cohort, before the start barrier opens: the run-wide directory (JSON in shared memory) */
export interface DirectoryMessage {
  type: 'directory'
  buffer: SharedArrayBuffer
}

export interface CohortResult {
  cohortId: number
  threadId: number
  delta: MetricsDelta
  errors: ErrorGroup[]
  violations: ViolationDelta
  /** users that ran their plan to the end (iterations may have failed) */
  completed: number
  /** users that could not run (setup failed) */
  lost: number
  /** users cut short by an interrupt or the hard deadline */
  interrupted: number
  /** engine self-check: user contexts and sockets watched after teardown, and how many a full GC could not collect */
  selfCheck: { checked: number, retained: number }
}
