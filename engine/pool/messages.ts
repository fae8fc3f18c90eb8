// Main <-> worker message types. A cohort is one Piscina task; it talks back over its own MessagePort.
import type { MessagePort } from 'node:worker_threads'
import type { MetricsDelta } from '../metrics/index.js'
import type { DirectoryEntry, ViolationDelta } from '../isolation/index.js'
import type { ErrorGroup, ProfilePoint } from '../result/index.js'
import type { UserRow } from '../scenario/index.js'
import type { Deadlines } from './deadlines.js'

export interface CohortSpec {
  id: number
  /** global index of the cohort's first user */
  firstUser: number
  /** the most users this cohort runs */
  size: number
  /** users set up as soon as the task starts (open model: the pre-allocated share; closed: all) */
  initialUsers: number
  /** ms after the start barrier when the cohort is first needed (later ones are submitted then) */
  startAtMs: number
  /** open model: this cohort's share of the arrival rate, and the phase of its first arrival in [0, 1) */
  rateShare: number
  phase: number
  /** users of this cohort set up at once: its share of the run's setup concurrency */
  setupShare: number
  /** a plan of several scenarios: the entry this cohort runs (its plan and module) */
  scenario?: string
  /**
   * run-wide id of the cohort's scenario's first user (default 0): every scenario plans its users
   * from 0 (`firstUser` is within its plan); their ids follow each other across the run
   */
  userBase?: number
}

export interface CohortPlan {
  /** closed: users loop over iterations following the profile; open: iterations arrive at the profile's rate */
  model: 'closed' | 'open'
  /** closed: users over time; open: iterations per second over time (ms since the start barrier) */
  profile: ProfilePoint[]
  /** stop starting iterations this long after the start barrier (null: no time limit) */
  durationMs: number | null
  /** iterations per user (null: as many as fit in durationMs) */
  iterations: number | null
  /** in-flight iterations get this long to finish after the deadline before they are aborted */
  gracefulStopMs: number
  /** closed model: a user whose iteration failed waits this long, doubling up to 10x while failures go on (0: no wait) */
  errorBackoffMs: number
  /** when the load ends, in-flight work is cut and the run is aborted (computed once, main thread) */
  deadlines: Deadlines
  /** after the load phase, how long sockets get to end and reconcile their event streams */
  drainMs: number
  /**
   * a scenario of a plan: its load begins this long after the start barrier (k6's startTime; its
   * users still set up before the barrier). The profile, deadlines and cut-off count from then.
   */
  startTimeMs?: number
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
  /** response bodies: bytes kept per response, and whether to drop them once scanned */
  body: { maxBytes: number, discard: boolean }
  /** request names kept by this cohort's recorder (the main thread caps the run's again; default 200) */
  maxRequestNames?: number
  tickMs: number
  /** performance.timeOrigin + now at the run's start: ticks fall on whole tick intervals of this clock */
  originEpochMs: number
  barrier: SharedArrayBuffer
  /** submitted after the start barrier opened (a ramp adding users): its users join the load phase one by one */
  late: boolean
  port: MessagePort
  /**
   * the users file's rows of this cohort's users (user firstUser + i gets rows[i]), or null
   * without a users file: each row travels to the one cohort that runs its user
   */
  rows: UserRow[] | null
  /** HMAC key of this run's canaries; never leaves memory */
  secret: string
  /** what the scenario's run-wide `before` returned (`user.run.data`), structured-cloned into each task; undefined without one */
  runData?: unknown
  isolation: { scan: boolean, barrierTimeoutMs: number }
  /** open each user's HTTP connection at the end of its setup, before the start barrier */
  preconnect: boolean
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
  /** a regular tick covers the tick interval ending at this epoch ms (undefined: an extra tick, counted when it arrives) */
  coversUntilEpochMs: number | undefined
}

export interface ReadyMessage {
  type: 'ready'
  cohortId: number
  threadId: number
  /** users whose setup failed; they do not take part in the load phase */
  setupFailed: number
  /** set-up users that are active the moment the load phase starts (burst barrier parties) */
  activeAtStart: number
  /** resources and credentials of the cohort's set-up users, for other users' probes */
  directory: DirectoryEntry[]
}

/**
 * The cohort's last message on its port, after its last tick. Messages on one port arrive in
 * order, but the task's result travels on Piscina's own channel and may overtake the last ticks:
 * the main thread accounts a cohort only once this has arrived.
 */
export interface ByeMessage {
  type: 'bye'
  cohortId: number
}

export type WorkerMessage = TickMessage | ReadyMessage | ByeMessage

/** main -> cohort, once set up: the run-wide directory (JSON in shared memory) and the load phase's start */
export interface DirectoryMessage {
  type: 'directory'
  buffer: SharedArrayBuffer
  /**
   * how many entries the buffer holds: with the run id, what a thread keys its one decoded copy
   * by (each message arrives as a new SharedArrayBuffer object over the same memory)
   */
  entries: number
  /** performance.timeOrigin + now of the start barrier's release: the one clock of every cohort's plan */
  loadStartEpochMs: number
}

export interface CohortResult {
  cohortId: number
  threadId: number
  delta: MetricsDelta
  errors: ErrorGroup[]
  violations: ViolationDelta
  /** users this cohort created (open model: pre-allocated plus those added on demand) */
  allocated: number
  /** users that ran their plan to the end (iterations may have failed) */
  completed: number
  /** users that could not run (setup failed) */
  lost: number
  /** users cut short by an interrupt or the hard deadline */
  interrupted: number
  /** epoch ms when the cohort left its load phase (null: it never ran one) */
  loadEndedEpochMs: number | null
  /** engine self-check: user contexts and sockets watched after teardown, and how many a full GC could not collect */
  selfCheck: { checked: number, retained: number }
}
