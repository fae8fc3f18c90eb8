// The typed outcome of a run; report.json is this object (schemaVersion tracks its shape).
// The fixture's own counters are typed by the fixture; this type-only import loads nothing.
import type { FixtureStats } from '../../fixtures/index.js'
import { ConfigError } from '../errors.js'
import type { ErrorGroup } from './error-group.js'
import type { BreakpointReport, ExecutorName, ProfilePoint } from './executor-report.js'
import type { IsolationSummary } from './isolation-summary.js'
import type { LeakReport } from './leak-report.js'
import type { MetricSummary, RequestNamesReport, SeriesPoint } from './metric-summary.js'
import type { Outage } from './outage.js'
import type { ScenarioReport } from './scenario-report.js'
import type { MergedFrom, ShardReport } from './shard-report.js'
import type { ThresholdResult } from './threshold-result.js'

// 2: hints, checkFailures and requestNames became required; outages, leaks.readings/figures/diff
// and target.command were added; later, optional shard and mergedFrom (additions a v2 reader skips). Readers refuse any other version (a v1 report lacks what
// the renderers read).
export const SCHEMA_VERSION = 2

/** Throws the one-line error readers give for a report.json of another shape. */
export function checkSchemaVersion (path: string, version: unknown): void {
  if (version !== SCHEMA_VERSION) {
    throw new ConfigError(`${path} has schemaVersion ${String(version)}; this crosstalk reads schemaVersion ${SCHEMA_VERSION} (re-run it, or render it with the crosstalk that wrote it)`)
  }
}

export interface CheckFailure {
  check: string
  fails: number
  total: number
  /** the first failure seen: its user, that user's last request (`GET /items/:id`), the check's `file:line:column` */
  first: { user: string, request?: string, at?: string }
}

export type RunStatus = 'passed' | 'failed' | 'interrupted'

export type StopReason = 'duration' | 'iterations' | 'max-duration' | 'abort-on-fail' | 'breakpoint' | 'interrupt' | 'hard-deadline'

export interface RunResult {
  schemaVersion: typeof SCHEMA_VERSION
  status: RunStatus
  /** why the run failed or stopped early, one line each */
  failures: string[]
  /**
   * why the load phase ended: by its plan (`duration`, `iterations`), by `max-duration` (an
   * iteration-count run that had not finished), gracefully (`abort-on-fail`,
   * `breakpoint`) or cut short (`interrupt`, `hard-deadline`); a run the engine itself failed
   * throws instead and writes no report
   */
  stopReason: StopReason
  runId: string
  startedAt: string
  /** wall time of the whole run, setup and teardown included */
  durationMs: number
  /** length of the load phase: start barrier to when the last cohort that returned left its load (drain and teardown excluded) */
  loadDurationMs: number
  /** the load phase in seconds since the run started: the same clock as `timeSeries[].t` */
  loadWindow: { startS: number, endS: number }
  scenario: { name: string, source: string }
  /** the executor, its parameters and the planned profile (users, or iterations/s, over ms of load) */
  executor: { name: ExecutorName, model: 'closed' | 'open', profile: ProfilePoint[] } & Record<string, unknown>
  /** breakpoint executor: where the target broke */
  breakpoint?: BreakpointReport
  /** every threshold at the end of the run */
  thresholds: ThresholdResult[]
  /**
   * a plan of several scenarios (the `scenarios` option): each entry by name. The run's own
   * figures (metrics, users, timeSeries) are over every scenario; `scenario` lists the entries and
   * `executor` is the first entry's, its profile shifted by its startTime.
   */
  scenarios?: Record<string, ScenarioReport>
  /** planned: the most users the plan can use; allocated: those created (open model adds them on demand) */
  users: { planned: number, allocated: number, peakActive: number, completed: number, lost: number, interrupted: number }
  workers: { threads: number, planned: number, cohorts: number }
  /** after teardown a full GC in each worker must collect every user context and socket */
  selfCheck: { checked: number, retained: number }
  metrics: Record<string, MetricSummary>
  /** the scenario's own metrics by name (declared, or as first used): kind and unit; absent without any */
  customMetrics?: Record<string, { kind: 'counter' | 'gauge' | 'rate' | 'trend', unit?: string, description?: string }>
  /** the request-name cap and what it folded into `(other)` */
  requestNames: RequestNamesReport
  timeSeries: SeriesPoint[]
  /** windows in which the target failed, oldest first (empty: none); also the `outages` and `outage.*` metrics */
  outages: Outage[]
  errors: { count: number, groups: ErrorGroup[] }
  /** each check that failed: how often, and where it first failed (user, their last request, the scenario line) */
  checkFailures: CheckFailure[]
  /** one-line diagnoses from what was measured (what probably went wrong, what to try); never a pass/fail decision */
  hints: string[]
  /**
   * WebSocket event streams: `sent` is what servers declared in their end-of-stream answers;
   * received counts every event frame (duplicates included); lost/duplicated/reordered per stream
   */
  events: { sent: number, received: number, lost: number, duplicated: number, reordered: number, unreconciled: number }
  /** other users' data or events seen, probes that got through, reads that lost a write */
  isolation: IsolationSummary
  /** heap readings between GC cycles and the verdict, when leak detection was on */
  leaks?: LeakReport
  /** the target's CPU profile of the run, when asked for */
  cpuProfile?: string
  /** one shard of a run (--shard): its place, users and encoded histograms, for `crosstalk merge` */
  shard?: ShardReport
  /** a report merged from shards' (`crosstalk merge`): each shard in brief */
  mergedFrom?: MergedFrom
  /** `command`: set when crosstalk started the server from a command (a cmd: target) */
  target: { url: string, fixture?: FixtureStats & { process: string }, command?: TargetStartup }
}

/** How a server crosstalk started from a command came up. */
export interface TargetStartup {
  command: string
  /** the process listening on the port (found in the command's process group), else the spawned one */
  pid: number
  /** ms from spawn to listening (or to its ready line) */
  startMs: number
  /** resident memory (VmRSS) of `pid` once listening; absent without Linux's /proc */
  rssBytes?: number
  /** ws:// URL of its inspector, when started with one (--leaks, --cpu-profile) */
  inspector?: string
}
