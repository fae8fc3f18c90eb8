// run() options: the typed input, and the one place where defaults are filled in and every
// problem is collected (all at once, as one ConfigError).
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { ConfigError, InvalidDurationError } from '../errors.js'
import { EXECUTORS, type ExecutorName } from '../result/index.js'
import { EXECUTOR_DEFAULTS, parseStages, planExecution, type ExecutionPlan } from '../load/index.js'
import { compileThresholds, type Threshold, type ThresholdDefinitions } from '../thresholds/index.js'
import { parseDuration } from '../shared/index.js'
import type { FixtureOptions, FixtureProcess } from '../target/index.js'

export interface RunProgress {
  /** seconds since the start barrier opened (negative-free; 0 during setup) */
  elapsedS: number
  phase: 'setup' | 'load' | 'stopping'
  activeUsers: number
  plannedUsers: number
  /** over the last complete second */
  reqPerS: number
  p95Ms: number | null
  /** iteration errors + failed requests so far */
  errors: number
  /** WebSocket events received so far, and over the last complete second */
  eventsReceived: number
  eventsPerS: number
}

export interface RunOptions {
  /** built-in scenario name (`items`, `events`), file path or file URL; default: `default` */
  scenario?: string | URL
  /** target base URL; default: start the embedded fixture server */
  target?: string
  /** permit a non-loopback target (off: load goes to 127.0.0.0/8 and ::1 only) */
  allowRemote?: boolean
  /**
   * how load is applied (k6's executors; default constant-users): constant-users, ramping-users,
   * spike (closed model: users loop over iterations) or constant-arrival-rate,
   * ramping-arrival-rate, breakpoint (open model: iterations arrive at a rate)
   */
  executor?: ExecutorName
  /** constant-users: simultaneous users (default 1000); spike: the baseline; arrival-rate executors: users set up before the start (default 100) */
  users?: number
  /** arrival-rate executors: the most users that may be set up (default 1000) */
  maxUsers?: number
  /** spike: users at the peak (default 1000) */
  peakUsers?: number
  /** ramping-users: users at the start (default 0) */
  startUsers?: number
  /** constant-arrival-rate: iterations per second; breakpoint: the rate the ramp rises to */
  rate?: number
  /** ramping-arrival-rate, breakpoint: iterations per second at the start */
  startRate?: number
  /** ramping executors: `'10s:100,20s:1000'` or [{ duration: '10s', target: 100 }, ...] (users, or iterations/s) */
  stages?: string | Array<{ duration: string | number, target: number }>
  /** load phase length ('30s', '2m' or ms); default 10s unless `iterations` is given */
  duration?: string | number
  /** constant-users: iterations per user */
  iterations?: number
  /** worker threads (default: cores - 1, at least 2) */
  workers?: number
  /** users per Piscina task (default: derived from users and workers) */
  cohortSize?: number
  /** directory for report.json (null/undefined: write nothing) */
  out?: string | null
  /** options of the embedded fixture (ignored with `target`) */
  fixture?: FixtureOptions & { process?: FixtureProcess }
  setupTimeout?: string | number
  teardownTimeout?: string | number
  gracefulStop?: string | number
  requestTimeout?: string | number
  /** bound on the load phase of iteration-count runs (default 10m) */
  maxDuration?: string | number
  /** heap readings between GC cycles and a leak verdict (off by default) */
  leaks?: boolean | {
    /** a reading every this many completed operations (requests + WebSocket messages sent); default 1000 */
    everyOps?: number
    /** 'remote' (inspector on 127.0.0.1), 'in-process' (this thread), 'memwatch' (main thread, optional) */
    backend?: 'remote' | 'in-process' | 'memwatch'
    /** name suspects when a leak is flagged (default true) */
    suspects?: boolean
    /** save a heap snapshot of a flagged leak in the report directory (default false) */
    snapshots?: boolean
    /** growth below this is never a leak, bytes per operation (default 32) */
    floorBytesPerOp?: number
  }
  /** host:port of the target's inspector (a server started with node --inspect=127.0.0.1:PORT), for leaks and CPU profiles of a --target */
  inspectTarget?: string
  /** record the target's CPU profile during the load phase (a .cpuprofile in the report directory, or this path) */
  cpuProfile?: boolean | string
  /** after the load phase, how long WebSockets get to end and reconcile their event streams (default 2s) */
  drainTimeout?: string | number
  isolation?: {
    /** scan every response and frame for other users' canaries (default true) */
    scan?: boolean
    /** how long `user.barrier()` waits for missing users (default 10s) */
    barrierTimeout?: string | number
  }
  /**
   * k6-style thresholds per metric (optionally per request name):
   * `{ 'http.req.duration{name:get item}': ['p(95)<50', { threshold: 'p(99)<200', abortOnFail: true }] }`.
   * A failed threshold fails the run (exit 1); abortOnFail stops it early.
   */
  thresholds?: ThresholdDefinitions
  signal?: AbortSignal
  /** called once a second with live figures */
  onProgress?: (p: RunProgress) => void
  /** resolves relative scenario paths (default process.cwd()) */
  cwd?: string
}

export interface ResolvedRunOptions {
  scenario: string | URL | undefined
  target: string | undefined
  allowRemote: boolean
  plan: ExecutionPlan
  gracefulStopMs: number
  /** bound on the load phase of iteration-count runs */
  maxDurationMs: number
  /** event stream drain after the load phase */
  drainMs: number
  workers: number
  cohortSize: number | undefined
  out: string | null
  fixture: FixtureOptions & { process: FixtureProcess }
  setupTimeoutMs: number
  teardownTimeoutMs: number
  requestTimeoutMs: number
  tickMs: number
  isolation: { scan: boolean, barrierTimeoutMs: number }
  leaks: { everyOps: number, backend: 'remote' | 'in-process' | 'memwatch' | undefined, suspects: boolean, snapshots: boolean, floorBytesPerOp: number } | null
  cpuProfile: string | null
  inspectTarget: string | undefined
  thresholds: Threshold[]
  signal: AbortSignal | undefined
  onProgress: ((p: RunProgress) => void) | undefined
  cwd: string
}

export const DEFAULTS = {
  users: EXECUTOR_DEFAULTS.users,
  duration: '10s',
  setupTimeout: '30s',
  teardownTimeout: '10s',
  gracefulStop: '5s',
  requestTimeout: '10s',
  maxDuration: '10m',
  barrierTimeout: '10s',
  drainTimeout: '2s',
  leakEveryOps: 1000,
  fastTickMs: 250,
  leakFloorBytesPerOp: 32,
  tickMs: 1000
} as const

export function defaultWorkers (): number {
  return Math.max(2, availableParallelism() - 1)
}

const KNOWN = new Set(['scenario', 'target', 'allowRemote', 'executor', 'users', 'maxUsers', 'peakUsers', 'startUsers', 'rate', 'startRate', 'stages', 'duration', 'iterations', 'workers', 'cohortSize', 'out', 'fixture', 'setupTimeout', 'teardownTimeout', 'gracefulStop', 'requestTimeout', 'maxDuration', 'drainTimeout', 'isolation', 'leaks', 'cpuProfile', 'inspectTarget', 'thresholds', 'signal', 'onProgress', 'cwd'])

export function resolveRunOptions (input: RunOptions = {}): ResolvedRunOptions {
  const problems: string[] = []
  const durationProblems: string[] = []
  for (const k of Object.keys(input)) if (!KNOWN.has(k)) problems.push(`unknown option '${k}'`)

  const ms = (value: string | number | undefined, fallback: string, what: string): number => {
    try {
      return parseDuration(value ?? fallback, what)
    } catch (err) {
      durationProblems.push((err as Error).message)
      return 1
    }
  }
  const durationMs = input.duration === undefined ? null : ms(input.duration, DEFAULTS.duration, 'duration')

  const workers = input.workers ?? defaultWorkers()
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) problems.push(`workers must be an integer from 1 to 64 (got ${input.workers})`)
  if (input.cohortSize !== undefined && (!Number.isInteger(input.cohortSize) || input.cohortSize < 1)) problems.push(`cohortSize must be a positive integer (got ${input.cohortSize})`)
  if (input.target !== undefined && input.fixture !== undefined) problems.push('give either a target or fixture options, not both')
  const inspecting = (input.leaks !== undefined && input.leaks !== false) || (input.cpuProfile !== undefined && input.cpuProfile !== false)
  const wantsInProcess = typeof input.leaks === 'object' && (input.leaks.backend === 'in-process' || input.leaks.backend === 'memwatch')
  // inspected, the embedded fixture runs in its own process so its heap is the target's alone
  const fixtureProcess = input.fixture?.process ?? (inspecting && !wantsInProcess ? 'child' : 'in-process')
  if (fixtureProcess !== 'in-process' && fixtureProcess !== 'child') problems.push(`fixture.process must be 'in-process' or 'child' (got '${String(fixtureProcess)}')`)

  const executor = input.executor ?? 'constant-users'
  let plan: ExecutionPlan | null = null
  if (!EXECUTORS.includes(executor)) {
    problems.push(`unknown executor '${String(executor)}' (use ${EXECUTORS.join(', ')})`)
  } else {
    const planned = planExecution({
      executor,
      users: input.users ?? null,
      maxUsers: input.maxUsers ?? null,
      peakUsers: input.peakUsers ?? null,
      startUsers: input.startUsers ?? null,
      rate: input.rate ?? null,
      startRate: input.startRate ?? null,
      stages: input.stages === undefined ? null : parseStages(input.stages, problems),
      durationMs,
      iterations: input.iterations ?? null
    })
    problems.push(...planned.problems)
    plan = planned.plan
  }
  const leaks = input.leaks === undefined || input.leaks === false ? null : input.leaks === true ? {} : input.leaks
  if (leaks !== null) {
    if (leaks.everyOps !== undefined && (!Number.isInteger(leaks.everyOps) || leaks.everyOps < 1)) problems.push(`leaks.everyOps must be a positive integer (got ${leaks.everyOps})`)
    if (leaks.backend !== undefined && !['remote', 'in-process', 'memwatch'].includes(leaks.backend)) problems.push(`leaks.backend must be remote, in-process or memwatch (got '${String(leaks.backend)}')`)
  }
  if (input.target !== undefined && input.inspectTarget === undefined && ((leaks !== null && leaks.backend !== 'in-process' && leaks.backend !== 'memwatch') || (input.cpuProfile !== undefined && input.cpuProfile !== false))) {
    problems.push('leak detection and CPU profiles of a --target need its inspector: start the server with node --inspect=127.0.0.1:PORT and pass --inspect-target 127.0.0.1:PORT')
  }
  const out = input.out ?? null
  const cpuProfile = input.cpuProfile === undefined || input.cpuProfile === false
    ? null
    : typeof input.cpuProfile === 'string' ? input.cpuProfile : join(out ?? '.', 'target.cpuprofile')
  const resolved: ResolvedRunOptions = {
    scenario: input.scenario,
    target: input.target,
    allowRemote: input.allowRemote === true,
    plan: plan!,
    gracefulStopMs: ms(input.gracefulStop, DEFAULTS.gracefulStop, 'gracefulStop'),
    maxDurationMs: ms(input.maxDuration, DEFAULTS.maxDuration, 'maxDuration'),
    drainMs: ms(input.drainTimeout, DEFAULTS.drainTimeout, 'drainTimeout'),
    workers,
    cohortSize: input.cohortSize,
    out,
    fixture: { ...input.fixture, process: fixtureProcess },
    setupTimeoutMs: ms(input.setupTimeout, DEFAULTS.setupTimeout, 'setupTimeout'),
    teardownTimeoutMs: ms(input.teardownTimeout, DEFAULTS.teardownTimeout, 'teardownTimeout'),
    requestTimeoutMs: ms(input.requestTimeout, DEFAULTS.requestTimeout, 'requestTimeout'),
    // leak readings are taken every K operations: the op count must be fresh more than once a
    // second; a changing load shows its users.active each second as it ends, not up to 1 s stale
    tickMs: leaks === null && (plan === null || plan.executor === 'constant-users') ? DEFAULTS.tickMs : DEFAULTS.fastTickMs,
    isolation: {
      scan: input.isolation?.scan ?? true,
      barrierTimeoutMs: ms(input.isolation?.barrierTimeout, DEFAULTS.barrierTimeout, 'isolation.barrierTimeout')
    },
    leaks: leaks === null
      ? null
      : {
          everyOps: leaks.everyOps ?? DEFAULTS.leakEveryOps,
          backend: leaks.backend,
          suspects: leaks.suspects ?? true,
          snapshots: leaks.snapshots ?? false,
          floorBytesPerOp: leaks.floorBytesPerOp ?? DEFAULTS.leakFloorBytesPerOp
        },
    cpuProfile,
    inspectTarget: input.inspectTarget,
    // a bad expression or unknown metric is its own coded error (CT_ERR_THRESHOLD_*), with the offending text
    thresholds: compileThresholds(input.thresholds),
    signal: input.signal,
    onProgress: input.onProgress,
    cwd: input.cwd ?? process.cwd()
  }
  if (durationProblems.length > 0 && problems.length === 0) throw new InvalidDurationError(durationProblems.join('; '))
  problems.push(...durationProblems)
  if (problems.length > 0) throw new ConfigError(problems)
  return resolved
}
