// run() options: the typed input, and the one place where defaults are filled in (read from the
// option table) and every problem is collected (all at once, see problems.ts).
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import type { ExecutorName } from '../result/index.js'
import type { CustomMetricDefinitions } from '../metrics/index.js'
import { EXECUTOR_DEFAULTS, type ExecutionPlan } from '../load/index.js'
import type { UsersFileSpec } from '../scenario/index.js'
import { withDefaultBudget, type Threshold, type ThresholdDefinitions } from '../thresholds/index.js'
import { isLoopbackHost, parseDuration } from '../shared/index.js'
import { otlpMetricsUrl } from '../report/index.js'
import { checkFixtureOptions, parseTargetSpec, type FixtureOptions, type FixtureProcess, type TargetCommand } from '../target/index.js'
import { checkOptionValues } from './check-values.js'
import { awaitsScenarioMetrics, checkThresholds, reportWaitingKeys } from './check-thresholds.js'
import { defaultOf } from './option-table.js'
import { Problems } from './problems.js'
import { resolveDistributed, type ResolvedDistributed } from './distributed-options.js'
import { checkScenarioThresholds, combinedPlan, planExecutorOptions, resolveScenarioEntries, type ResolvedScenarioEntry, type ScenarioEntryOptions } from './scenario-plans.js'

export interface RunProgress {
  /** seconds since the start barrier opened (negative-free; 0 during setup) */
  elapsedS: number
  phase: 'setup' | 'load' | 'stopping'
  activeUsers: number
  plannedUsers: number
  /** over the last complete second */
  reqPerS: number
  p95Ms: number | null
  /** setup, iteration and teardown errors so far (report.json's `errors`) */
  errors: number
  /** requests that failed so far (http.req.failed): statuses outside `expect`, transport errors */
  failedRequests: number
  /** WebSocket events received so far, and over the last complete second */
  eventsReceived: number
  eventsPerS: number
}

export interface RunOptions {
  /** built-in scenario name (`items`, `events`), file path or file URL; default: `default` */
  scenario?: string | URL
  /**
   * several scenarios in one run, each with its own executor options and `startTime`:
   * `{ browse: { scenario: './browse.mjs', executor: 'ramping-users', stages: '5s:50' }, chat: { ... } }`.
   * Not with the top-level scenario or executor options.
   */
  scenarios?: Record<string, ScenarioEntryOptions>
  /**
   * the server under test: its base URL, `cmd:<command>` or { command, env, cwd, ready, port } to
   * start it (given a free port in $PORT, stopped after the run). Required unless `fixture` is given.
   */
  target?: string | TargetCommand
  /** a command target: how long it gets to listen (default 30s) */
  targetStartTimeout?: string | number
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
  /**
   * one row of data per user, as `user.data`: a .csv (header row of field names), .json (an array
   * of objects) or .ndjson/.jsonl file; user N gets row N. `reuse`: fewer rows than users is
   * fine, user N gets row N % rows. Relative to `cwd`.
   */
  usersFile?: string | { path: string, reuse?: boolean }
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
  /** directory for report.json, report.html, summary.md and junit.xml (null/undefined: write nothing) */
  out?: string | null
  /** stream one JSON line per metric key per second as the run goes: a file path, or '-' for stdout */
  outNdjson?: string
  /** push the metrics every second to this OpenTelemetry collector (OTLP/HTTP JSON), e.g. http://127.0.0.1:4318; loopback only unless allowRemote */
  otlp?: string
  /** the files written beside report.json in `out` (each on by default) */
  reports?: { html?: boolean, md?: boolean, junit?: boolean }
  /** load the embedded fixture instead of a target: true, or its options */
  fixture?: boolean | (FixtureOptions & { process?: FixtureProcess })
  setupTimeout?: string | number
  /** users in setup at once, run-wide (default 100): paces logins and connection opening before the start */
  setupConcurrency?: number
  /** open each user's HTTP connection at the end of its setup (default true) */
  preconnect?: boolean
  teardownTimeout?: string | number
  /** bound on the scenario's run-wide `before` and on its `after`, each (default 60s) */
  runStepTimeout?: string | number
  gracefulStop?: string | number
  /** closed model: wait after a failed iteration, doubling up to 10x while failures go on (default 100ms; 0: none) */
  errorBackoff?: string | number
  /** bound on each whole response, headers and body (default 10s) */
  requestTimeout?: string | number
  /** response body bytes kept per request (default 16 MiB); the rest is counted in http.body.discarded */
  maxBodyBytes?: number
  /** drop response bodies once scanned for canaries (`res.body` is empty): for scenarios that never read them */
  discardBodies?: boolean
  /** distinct request names (the `name` tag) kept in metrics; the rest fold into `(other)` (default 200) */
  maxRequestNames?: number
  /** bound on the load phase (default 10m): ends an iteration-count run; a longer duration is an error */
  maxDuration?: string | number
  /**
   * run one shard of several: `'1/3'` or { index: 1, count: 3 } (0-based); this process runs its
   * slice of the users, rates and stages. Needs `runId` and $CROSSTALK_RUN_SECRET, the same on every shard.
   */
  shard?: string | { index: number, count: number }
  /** the run's id, the same on every shard (lowercase letters, digits, '-'; default random) */
  runId?: string
  /** a `crosstalk coordinate` address: once set up, wait for its release to start the load */
  coordinator?: string
  /** an ISO time with its zone: once set up, start the load then */
  startAt?: string
  /** bound on waiting for the coordinator's release or for startAt (default 5m) */
  startTimeout?: string | number
  /** heap readings between GC cycles and a leak verdict (off by default) */
  leaks?: boolean | {
    /** a reading every this many completed operations (requests + WebSocket messages sent); default: ~30 readings over the planned load (every duration / 30, or planned ops / 30) */
    everyOps?: number
    /** 'quiet' (default): hold new iterations and let those in flight end before each reading; 'under-load': read as the load runs */
    readings?: 'quiet' | 'under-load'
    /** 'remote' (inspector on 127.0.0.1), 'in-process' (this thread), 'memwatch' (main thread, optional) */
    backend?: 'remote' | 'in-process' | 'memwatch'
    /** name suspects when a leak is flagged (default true) */
    suspects?: boolean
    /** save a heap snapshot of a flagged leak in the report directory (default false) */
    snapshots?: boolean
    /** heap diff between GC cycles by class, with retainer paths: 'auto' (when a leak is flagged; default), 'always', 'off' */
    diff?: 'auto' | 'always' | 'off'
    /** growth below this is never a leak, bytes per operation (default 32) */
    floorBytesPerOp?: number
  }
  /** the inspector of a URL target (a server started with node --inspect=127.0.0.1:PORT): host:port or its ws:// URL, for leaks and CPU profiles (a cmd: target is inspected without it) */
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
  /** undefined: the embedded fixture */
  target: string | TargetCommand | undefined
  /** a command target's bound on starting */
  targetStartTimeoutMs: number
  /** a command target (started here, inspected through NODE_OPTIONS) */
  targetIsCommand: boolean
  allowRemote: boolean
  /** the run's plan; with `scenarios`, the entries' combined (users summed, the load until the last entry's ends) */
  plan: ExecutionPlan
  /** the entries of `scenarios`, planned one by one (null: one scenario, `plan`) */
  scenarios: ResolvedScenarioEntry[] | null
  /** the users file, its path absolute (read and checked before any load, by the runner) */
  usersFile: UsersFileSpec | null
  /** shard, shared run id and secret, coordinated start */
  distributed: ResolvedDistributed
  gracefulStopMs: number
  /** closed model: the first wait after a failed iteration (0: none) */
  errorBackoffMs: number
  /** bound on the load phase of iteration-count runs */
  maxDurationMs: number
  /** event stream drain after the load phase */
  drainMs: number
  workers: number
  cohortSize: number | undefined
  out: string | null
  /** '-' (stdout), an absolute path, or null */
  outNdjson: string | null
  /** the collector's /v1/metrics URL, or null */
  otlp: string | null
  /** the files written beside report.json (when `out` is set) */
  reports: { html: boolean, md: boolean, junit: boolean }
  fixture: FixtureOptions & { process: FixtureProcess }
  setupTimeoutMs: number
  /** users in setup at once, run-wide */
  setupConcurrency: number
  preconnect: boolean
  teardownTimeoutMs: number
  /** bound on the scenario's run-wide `before` and on its `after`, each */
  runStepTimeoutMs: number
  requestTimeoutMs: number
  maxBodyBytes: number
  discardBodies: boolean
  maxRequestNames: number
  tickMs: number
  isolation: { scan: boolean, barrierTimeoutMs: number }
  leaks: { everyOps: number | undefined, readings: 'quiet' | 'under-load', backend: 'remote' | 'in-process' | 'memwatch' | undefined, suspects: boolean, snapshots: boolean, diff: 'auto' | 'always' | 'off', floorBytesPerOp: number } | null
  cpuProfile: string | null
  inspectTarget: string | undefined
  thresholds: Threshold[]
  /**
   * thresholds that may name the scenario's custom metrics: compiled again, all of them, once its
   * declared `metrics` are read (withScenarioMetrics); null: none waits
   */
  scenarioThresholds: { definitions: ThresholdDefinitions, defaultBudget: boolean } | null
  signal: AbortSignal | undefined
  onProgress: ((p: RunProgress) => void) | undefined
  cwd: string
}

/** Defaults as named values (the option table holds them; tick periods are not options). */
export const DEFAULTS = {
  users: EXECUTOR_DEFAULTS.users,
  duration: `${EXECUTOR_DEFAULTS.durationMs / 1000}s`,
  setupTimeout: defaultOf<string>('setupTimeout'),
  teardownTimeout: defaultOf<string>('teardownTimeout'),
  gracefulStop: defaultOf<string>('gracefulStop'),
  requestTimeout: defaultOf<string>('requestTimeout'),
  maxDuration: defaultOf<string>('maxDuration'),
  barrierTimeout: defaultOf<string>('isolation.barrierTimeout'),
  drainTimeout: defaultOf<string>('drainTimeout'),
  fastTickMs: 250,
  leakFloorBytesPerOp: defaultOf<number>('leaks.floorBytesPerOp'),
  tickMs: 1000
} as const

export function defaultWorkers (): number {
  return Math.max(2, availableParallelism() - 1)
}

/** Resolves run() options, or throws every problem at once (a lone threshold or duration problem keeps its code). */
export function resolveRunOptions (input: RunOptions = {}): ResolvedRunOptions {
  const problems = new Problems()
  const resolved = checkRunOptions(input, problems)
  problems.throwIfAny()
  return resolved
}

/** The run's thresholds once its scenario is imported: keys on custom metrics checked against its declared `metrics`. */
export function withScenarioMetrics (o: ResolvedRunOptions, metrics: CustomMetricDefinitions | undefined): ResolvedRunOptions {
  const waiting = o.scenarioThresholds
  if (waiting === null) return o
  const problems = new Problems()
  const compiled = checkThresholds(waiting.definitions, problems, metrics ?? {})
  problems.throwIfAny()
  return { ...o, thresholds: waiting.defaultBudget ? withDefaultBudget(compiled) : compiled, scenarioThresholds: null }
}

/** Resolves what it can and records every problem in `problems` (the result is only whole without any). */
export function checkRunOptions (input: RunOptions, problems: Problems): ResolvedRunOptions {
  const o = checkOptionValues(input as Record<string, unknown>, { where: '', configFile: false }, problems) as RunOptions
  const ms = (key: string, value: string | number | undefined): number =>
    problems.catch(() => parseDuration(value ?? defaultOf<string>(key), key)) ?? 1
  const get = <K extends keyof RunOptions>(key: K): NonNullable<RunOptions[K]> => (o[key] ?? defaultOf(key))
  const maxDurationMs = problems.catch(() => parseDuration(o.maxDuration ?? defaultOf<string>('maxDuration'), 'maxDuration'))
  // a `scenarios` that is not an object was reported by the value check: nothing more to plan
  const entries = o.scenarios === undefined ? null : resolveScenarioEntries(o as Record<string, unknown>, problems)
  // an executor that is not one has been reported: planning another would only add noise
  const plan = entries !== null
    ? combinedPlan(entries, maxDurationMs ?? 1)
    : input.executor !== undefined && o.executor === undefined ? null : input.scenarios !== undefined ? null : resolvePlan(o, ms, problems)
  const leaks = resolveLeaks(o)
  const targetIsCommand = checkTarget(o, problems)
  // a cmd: target is started with its inspector; a URL's server was started by someone else
  if (o.target !== undefined && !targetIsCommand && o.inspectTarget === undefined && ((leaks !== null && leaks.backend !== 'in-process' && leaks.backend !== 'memwatch') || (o.cpuProfile !== undefined && o.cpuProfile !== false))) {
    problems.add("leak detection and CPU profiles of a --target URL need its inspector: give --target 'cmd:<command>' so crosstalk starts it with one, or start it with node --inspect=127.0.0.1:PORT and pass --inspect-target 127.0.0.1:PORT")
  }
  for (const p of entries ?? (plan === null ? [] : [{ name: undefined, plan }])) {
    if (p.plan.durationMs !== null && maxDurationMs !== undefined && p.plan.durationMs > maxDurationMs) {
      problems.add(`${p.name === undefined ? '' : `scenarios.${p.name}: `}the load phase of ${p.plan.durationMs / 1000}s (duration or stages) is longer than maxDuration ${maxDurationMs / 1000}s: raise --max-duration or shorten the load`)
    }
  }
  const defaultBudget = plan?.stopAtFirstFailure !== true
  const thresholds = defaultBudget ? withDefaultBudget(checkThresholds(o.thresholds, problems)) : checkThresholds(o.thresholds, problems)
  checkScenarioThresholds(thresholds, entries, problems)
  const out = o.out ?? null
  const waiting = awaitsScenarioMetrics(o.thresholds)
  const cpuProfile = o.cpuProfile === undefined || o.cpuProfile === false ? null : typeof o.cpuProfile === 'string' ? o.cpuProfile : join(out ?? '.', 'target.cpuprofile')
  const resolved: ResolvedRunOptions = {
    scenario: o.scenario,
    target: o.target,
    targetStartTimeoutMs: ms('targetStartTimeout', o.targetStartTimeout),
    targetIsCommand,
    allowRemote: get('allowRemote'),
    plan: plan!,
    scenarios: entries,
    usersFile: resolveUsersFile(o, problems),
    distributed: resolveDistributed(o, problems),
    gracefulStopMs: ms('gracefulStop', o.gracefulStop),
    // 0 turns the back-off off (a duration is otherwise positive)
    errorBackoffMs: o.errorBackoff === 0 || o.errorBackoff === '0' ? 0 : ms('errorBackoff', o.errorBackoff),
    maxDurationMs: maxDurationMs ?? 1,
    drainMs: ms('drainTimeout', o.drainTimeout),
    workers: o.workers ?? defaultWorkers(),
    cohortSize: o.cohortSize,
    out,
    outNdjson: o.outNdjson === undefined ? null : o.outNdjson === '-' ? '-' : resolve(o.cwd ?? process.cwd(), o.outNdjson),
    otlp: resolveOtlp(o, problems),
    reports: {
      html: o.reports?.html ?? defaultOf('reports.html'),
      md: o.reports?.md ?? defaultOf('reports.md'),
      junit: o.reports?.junit ?? defaultOf('reports.junit')
    },
    fixture: resolveFixture(o, problems),
    setupTimeoutMs: ms('setupTimeout', o.setupTimeout),
    setupConcurrency: get('setupConcurrency'),
    preconnect: get('preconnect'),
    teardownTimeoutMs: ms('teardownTimeout', o.teardownTimeout),
    runStepTimeoutMs: ms('runStepTimeout', o.runStepTimeout),
    requestTimeoutMs: ms('requestTimeout', o.requestTimeout),
    maxBodyBytes: get('maxBodyBytes'),
    discardBodies: get('discardBodies'),
    maxRequestNames: get('maxRequestNames'),
    // leak readings are taken every K operations: the op count must be fresh more than once a
    // second; a changing load shows its users.active each second as it ends, not up to 1 s stale
    tickMs: leaks === null && (entries ?? (plan === null ? [] : [{ plan }])).every(e => e.plan.executor === 'constant-users') ? DEFAULTS.tickMs : DEFAULTS.fastTickMs,
    isolation: {
      scan: o.isolation?.scan ?? defaultOf('isolation.scan'),
      barrierTimeoutMs: ms('isolation.barrierTimeout', o.isolation?.barrierTimeout)
    },
    leaks,
    cpuProfile,
    inspectTarget: o.inspectTarget,
    // a breakpoint run's thresholds mark where it broke: a default budget there would move that point
    thresholds,
    scenarioThresholds: waiting ? { definitions: o.thresholds!, defaultBudget } : null,
    signal: o.signal,
    onProgress: o.onProgress,
    cwd: o.cwd ?? process.cwd()
  }
  if (waiting && problems.size > 0) reportWaitingKeys(o.thresholds, problems)
  return resolved
}

function resolvePlan (o: RunOptions, ms: (key: string, value: string | number | undefined) => number, problems: Problems): ExecutionPlan | null {
  const executor = o.executor ?? defaultOf<ExecutorName>('executor')
  return planExecutorOptions({ ...o, executor }, o.duration === undefined ? null : ms('duration', o.duration), p => problems.add(p))
}

/** The collector's URL: http(s), and on this machine unless allowRemote (checked before any load). */
function resolveOtlp (o: RunOptions, problems: Problems): string | null {
  if (o.otlp === undefined) return null
  let url: URL
  try {
    url = new URL(o.otlp)
  } catch {
    problems.add(`otlp must be an http:// or https:// URL, e.g. http://127.0.0.1:4318 (got '${o.otlp}')`)
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add(`otlp must be an http:// or https:// URL, e.g. http://127.0.0.1:4318 (got '${o.otlp}')`)
    return null
  }
  if (o.allowRemote !== true && !isLoopbackHost(url.hostname)) {
    problems.add(`otlp collector ${url.host} is not a loopback address: metrics stay on this machine unless --allow-remote`)
    return null
  }
  return otlpMetricsUrl(url.href)
}

function resolveUsersFile (o: RunOptions, problems: Problems): UsersFileSpec | null {
  if (o.usersFile === undefined) return null
  const { path, reuse } = typeof o.usersFile === 'string' ? { path: o.usersFile, reuse: undefined } : o.usersFile
  if (typeof path !== 'string' || path === '') {
    problems.add('usersFile needs a path (--users-file <path>)')
    return null
  }
  return { path: resolve(o.cwd ?? process.cwd(), path), reuse: reuse ?? defaultOf<boolean>('usersFile.reuse') }
}

function resolveLeaks (o: RunOptions): ResolvedRunOptions['leaks'] {
  const leaks = o.leaks === undefined || o.leaks === false ? null : o.leaks === true ? {} : o.leaks
  if (leaks === null) return null
  return {
    everyOps: leaks.everyOps,
    readings: leaks.readings ?? defaultOf('leaks.readings'),
    backend: leaks.backend,
    suspects: leaks.suspects ?? defaultOf('leaks.suspects'),
    snapshots: leaks.snapshots ?? defaultOf('leaks.snapshots'),
    diff: leaks.diff ?? defaultOf('leaks.diff'),
    floorBytesPerOp: leaks.floorBytesPerOp ?? defaultOf('leaks.floorBytesPerOp')
  }
}

/**
 * No silent fixture: run() loads a target or, when told so, the embedded fixture. Checks a
 * command target's form; returns whether the target is a command.
 */
function checkTarget (o: RunOptions, problems: Problems): boolean {
  if (o.target === undefined) {
    if (o.fixture === undefined || o.fixture === false) problems.add('target: give a URL, cmd:<command>, or fixture: true for the embedded fixture')
    return false
  }
  if (o.fixture !== undefined && o.fixture !== false) problems.add('give either a target or fixture options, not both')
  const found: string[] = []
  const spec = parseTargetSpec(o.target, found)
  for (const p of found) problems.add(p)
  return spec?.kind === 'command'
}

/** The embedded fixture's options, checked now with the rest (it starts only after every check). */
function resolveFixture (o: RunOptions, problems: Problems): ResolvedRunOptions['fixture'] {
  const inspecting = (o.leaks !== undefined && o.leaks !== false) || (o.cpuProfile !== undefined && o.cpuProfile !== false)
  const wantsInProcess = typeof o.leaks === 'object' && (o.leaks.backend === 'in-process' || o.leaks.backend === 'memwatch')
  const { process: where, ...options } = typeof o.fixture === 'object' ? o.fixture : {}
  if (o.target === undefined) for (const p of checkFixtureOptions(options).problems) problems.add(p)
  // inspected, the embedded fixture runs in its own process so its heap is the target's alone
  return { ...options, process: where ?? (inspecting && !wantsInProcess ? 'child' : 'in-process') }
}
