// Every run option in one table: its run() key, kind, default, `crosstalk run` flag, help line.
// commander registers the flags from it, the config file loader and run() check values against
// it, the resolver reads defaults from it, and README's flag table is tested against it.
import { EXECUTORS } from '../result/index.js'
import { EXECUTOR_DEFAULTS } from '../load/index.js'
import { FIXTURE_DEFAULTS, FIXTURE_OPTION_TABLE } from '../target/index.js'
import * as kinds from './kinds.js'
import { DEFAULT_MAX_REQUEST_NAMES } from '../metrics/index.js'
import type { Kind } from './kinds.js'

export interface RunFlag {
  /** the long name, without dashes */
  long: string
  short?: string
  /** the value's name in help (`<n>`); none: a switch */
  value?: string
  /** may be given more than once */
  repeatable?: boolean
}

/** `--no-html`: a switch that turns its option off (the option is on by default). */
export function isNegation (flag: RunFlag): boolean {
  return flag.long.startsWith('no-') && flag.value === undefined
}

export interface RunOptionRow {
  /** the run() key, dotted when nested (`leaks.everyOps`); also the config file key */
  key: string
  kind: Kind
  /** what run() fills in when the option is not given (none: not given stays undefined) */
  default?: string | number | boolean | null
  /** how the default reads in help and README, when there is one worth saying */
  defaultText?: string
  flag?: RunFlag
  /** `crosstalk run` fills this in when neither a flag nor the config file does */
  cliDefault?: string
  /** a check beyond the kind: the problem ('must be ...'), or undefined */
  check?: (v: unknown) => string | undefined
  /** run() only: not plain data, so not in a config file */
  codeOnly?: true
  /** a flag of the command line only, with no run() option behind it (`--config`, `--quiet`) */
  cliOnly?: true
  /** the flag's help text and README's meaning column */
  doc: string
}

const between = (min: number, max: number) => (v: unknown): string | undefined =>
  (v as number) >= min && (v as number) <= max ? undefined : `must be a whole number from ${min} to ${max}`
const atLeastOne = (v: unknown): string | undefined => (v as number) >= 1 ? undefined : 'must be a positive whole number'

export const DEFAULT_OUT = './crosstalk-report'
/** a run id: it is part of every canary (`ctk_<run>_...`, so no '_') and of Kubernetes labels */
export const RUN_ID = /^[a-z0-9][a-z0-9-]{0,31}$/
const DEFAULT_MAX_BODY_BYTES = 16 * 2 ** 20

const RUN_ROWS: RunOptionRow[] = [
  { key: 'scenario', kind: kinds.scenario, defaultText: 'default', doc: 'built-in scenario name, file path or file URL' },
  { key: 'scenarios', kind: kinds.object, doc: "several scenarios in one run (config file or run()): { name: { scenario, executor, users, stages, duration, ..., startTime, tags } }; not with the top-level scenario or executor options" },
  { key: 'config', kind: kinds.text, cliOnly: true, flag: { long: 'config', short: 'c', value: 'file' }, defaultText: 'crosstalk.config.json (or .ts, .mts, .js, .mjs) if present', doc: 'run options from a file; flags win' },
  { key: 'target', kind: kinds.target, flag: { long: 'target', short: 't', value: 'url/cmd:command' }, defaultText: 'the embedded fixture (said on the first line)', doc: 'the server under test: its base URL, or cmd: and the command that starts it (crosstalk gives it a free port in $PORT and HOST=127.0.0.1, and stops it after the run)' },
  { key: 'targetStartTimeout', kind: kinds.duration, default: '30s', flag: { long: 'target-start-timeout', value: 'duration' }, doc: 'a cmd: target must listen (or print its ready line) within this' },
  { key: 'allowRemote', kind: kinds.boolean, default: false, flag: { long: 'allow-remote' }, defaultText: 'off', doc: 'allow a target (and an --otlp collector) that is not a loopback address (127.0.0.0/8, ::1)' },
  { key: 'executor', kind: kinds.oneOf(EXECUTORS), default: 'constant-users', flag: { long: 'executor', short: 'e', value: 'name' }, defaultText: 'constant-users', doc: `how load is applied: ${EXECUTORS.join(', ')}` },
  { key: 'users', kind: kinds.whole, flag: { long: 'users', short: 'u', value: 'n' }, defaultText: `${EXECUTOR_DEFAULTS.users}; ${EXECUTOR_DEFAULTS.preAllocatedUsers} pre-allocated`, doc: 'simultaneous virtual users; spike: the baseline; arrival-rate executors: users set up before the start' },
  { key: 'duration', kind: kinds.duration, flag: { long: 'duration', short: 'd', value: 'duration' }, defaultText: `${EXECUTOR_DEFAULTS.durationMs / 1000}s unless --iterations`, doc: 'load phase length, e.g. 500ms, 30s, 2m, 1m30s' },
  { key: 'iterations', kind: kinds.whole, flag: { long: 'iterations', short: 'i', value: 'n' }, doc: 'constant-users: iterations per user (with --duration, whichever ends first)' },
  { key: 'rate', kind: kinds.decimal, flag: { long: 'rate', short: 'r', value: 'n' }, doc: 'constant-arrival-rate: iterations per second; breakpoint: the rate the ramp rises to' },
  { key: 'startRate', kind: kinds.decimal, flag: { long: 'start-rate', value: 'n' }, defaultText: `0; breakpoint ${EXECUTOR_DEFAULTS.breakpointStartRate}`, doc: 'ramping-arrival-rate, breakpoint: iterations per second at the start' },
  { key: 'stages', kind: kinds.stages, flag: { long: 'stages', short: 's', value: 'list' }, doc: "ramping executors: duration:target pairs, e.g. '10s:100,20s:1000' (users, or iterations/s)" },
  { key: 'maxUsers', kind: kinds.whole, flag: { long: 'max-users', value: 'n' }, defaultText: String(EXECUTOR_DEFAULTS.maxUsers), doc: 'arrival-rate executors: the most users that may be set up' },
  { key: 'peakUsers', kind: kinds.whole, flag: { long: 'peak-users', value: 'n' }, defaultText: String(EXECUTOR_DEFAULTS.users), doc: 'spike: users at the peak' },
  { key: 'startUsers', kind: kinds.whole, flag: { long: 'start-users', value: 'n' }, defaultText: '0', doc: 'ramping-users: users at the start' },
  { key: 'usersFile', kind: kinds.pathOrObject, doc: 'one row of data per user (user.data): a path, or { path, reuse }' },
  { key: 'usersFile.path', kind: kinds.text, flag: { long: 'users-file', value: 'path' }, doc: 'one row per user as user.data, from a .csv (header row), .json (array of objects) or .ndjson/.jsonl file; user N gets row N' },
  { key: 'usersFile.reuse', kind: kinds.boolean, default: false, flag: { long: 'users-file-reuse' }, defaultText: 'off', doc: 'fewer rows than users is fine: user N gets row N % rows (otherwise CT_ERR_USERS_FILE)' },
  { key: 'gracefulStop', kind: kinds.duration, default: '5s', flag: { long: 'graceful-stop', value: 'duration' }, doc: 'in-flight iterations get this long after the load phase' },
  { key: 'errorBackoff', kind: kinds.duration, default: '100ms', flag: { long: 'error-backoff', value: 'duration' }, doc: 'closed-model executors: a user whose iteration failed waits this long before its next one, doubling while failures go on, up to 10 times this (0: no wait)' },
  { key: 'thresholds', kind: kinds.thresholds, flag: { long: 'threshold', value: 'metric: expression', repeatable: true }, doc: "fail the run unless it holds (repeatable; adds to the config file's), e.g. 'http.req.duration: p(95)<50', 'http.req.duration{name:get item}: p(99)<200'" },
  { key: 'workers', kind: kinds.whole, check: between(1, 64), flag: { long: 'workers', short: 'w', value: 'n' }, defaultText: 'cores - 1, at least 2', doc: 'worker threads' },
  { key: 'cohortSize', kind: kinds.whole, check: atLeastOne, doc: 'users per Piscina task (default: derived from users and workers)' },
  { key: 'out', kind: kinds.directory, default: null, cliDefault: DEFAULT_OUT, flag: { long: 'out', short: 'o', value: 'dir' }, defaultText: DEFAULT_OUT, doc: 'directory for report.json, report.html, summary.md and junit.xml' },
  { key: 'reports', kind: kinds.object, doc: 'which files are written beside report.json in `out`' },
  { key: 'reports.html', kind: kinds.boolean, default: true, flag: { long: 'no-html' }, defaultText: 'written', doc: 'no report.html (the run\'s charts and tables, one self-contained page)' },
  { key: 'reports.md', kind: kinds.boolean, default: true, flag: { long: 'no-md' }, defaultText: 'written', doc: 'no summary.md (the run in Markdown; `crosstalk run` also appends it to $GITHUB_STEP_SUMMARY when set)' },
  { key: 'reports.junit', kind: kinds.boolean, default: true, flag: { long: 'no-junit' }, defaultText: 'written', doc: 'no junit.xml (thresholds, checks, isolation, leaks and lost users as JUnit test cases)' },
  { key: 'outNdjson', kind: kinds.text, flag: { long: 'out-ndjson', value: 'file' }, doc: 'stream the metrics as the run goes: one JSON line per metric per second (schema in README, Outputs), to a file or - for stdout (the summary and progress then go to stderr)' },
  { key: 'otlp', kind: kinds.text, flag: { long: 'otlp', value: 'url' }, doc: "push the metrics every second to an OpenTelemetry collector's OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318 (loopback only unless --allow-remote)" },
  { key: 'json', kind: kinds.boolean, cliOnly: true, flag: { long: 'json' }, doc: 'print the result as JSON on stdout (report.json without timeSeries); the summary and progress go to stderr' },
  { key: 'quiet', kind: kinds.boolean, cliOnly: true, flag: { long: 'quiet', short: 'q' }, doc: 'no progress line and no summary' },
  { key: 'requestTimeout', kind: kinds.duration, default: '10s', flag: { long: 'request-timeout', value: 'duration' }, doc: 'bound on each whole response, headers and body (CT_ERR_TIMEOUT past it)' },
  { key: 'maxBodyBytes', kind: kinds.whole, check: atLeastOne, default: DEFAULT_MAX_BODY_BYTES, flag: { long: 'max-body', value: 'bytes' }, defaultText: `${DEFAULT_MAX_BODY_BYTES} (16 MiB)`, doc: 'response body bytes kept per request; the rest is counted in http.body.discarded, not kept nor scanned' },
  { key: 'discardBodies', kind: kinds.boolean, default: false, flag: { long: 'discard-bodies' }, defaultText: 'off', doc: 'drop response bodies once scanned (res.body is empty): for scenarios that never read them' },
  { key: 'maxRequestNames', kind: kinds.whole, check: atLeastOne, default: DEFAULT_MAX_REQUEST_NAMES, flag: { long: 'max-request-names', value: 'n' }, doc: 'distinct request names kept in metrics (`{name:...}` keys), and distinct values of each other tag (`tags`, groups); further ones fold into `(other)`, counted run-wide, with a warning' },
  { key: 'setupTimeout', kind: kinds.duration, default: '30s', flag: { long: 'setup-timeout', value: 'duration' }, doc: 'per-user setup timeout' },
  { key: 'setupConcurrency', kind: kinds.whole, check: atLeastOne, default: 100, flag: { long: 'setup-concurrency', value: 'n' }, doc: "users in setup at once, run-wide (split between threads): paces logins and connection opening before the start, below a server's listen backlog" },
  { key: 'maxDuration', kind: kinds.duration, default: '10m', flag: { long: 'max-duration', value: 'duration' }, doc: 'bound on the load phase: ends an --iterations run that has not finished (stopReason max-duration); a longer --duration or stages are an error' },
  { key: 'shard', kind: kinds.shard, flag: { long: 'shard', value: 'i/n' }, doc: "run shard i of n (0-based): this process's slice of the users, rates and stages, as k6's execution segments; needs --run-id and $CROSSTALK_RUN_SECRET, the same on every shard (README: Distributed runs)" },
  { key: 'runId', kind: kinds.text, check: v => RUN_ID.test(v as string) ? undefined : `must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit (got '${String(v)}')`, flag: { long: 'run-id', value: 'id' }, defaultText: 'random', doc: "the run's id, the same on every shard (lowercase letters, digits, '-'); the run secret then comes from $CROSSTALK_RUN_SECRET when set" },
  { key: 'coordinator', kind: kinds.text, flag: { long: 'coordinator', value: 'url' }, doc: "a `crosstalk coordinate` address (http://host:port): once set up, wait for its release so every shard starts its load at the same moment (loopback only unless --allow-remote)" },
  { key: 'startAt', kind: kinds.text, flag: { long: 'start-at', value: 'time' }, doc: 'an ISO time with its zone (2026-12-01T10:00:00Z): once set up, start the load then (shards on machines whose clocks agree, e.g. NTP)' },
  { key: 'startTimeout', kind: kinds.duration, default: '5m', flag: { long: 'start-timeout', value: 'duration' }, doc: 'bound on waiting, once set up, for the coordinator\'s release or --start-at (CT_ERR_START past it)' },
  // run() and config file only: rarely changed, not worth a flag each
  { key: 'teardownTimeout', kind: kinds.duration, default: '10s', doc: 'per-user teardown timeout' },
  { key: 'runStepTimeout', kind: kinds.duration, default: '60s', doc: "bound on the scenario's run-wide `before` and on its `after`, each (CT_ERR_RUN_SETUP past before's; a failure line past after's)" },
  { key: 'preconnect', kind: kinds.boolean, default: true, doc: "open each user's HTTP connection at the end of its setup (unless setup already did), so the load starts on accepted connections; off for scenarios with no HTTP" },
  { key: 'drainTimeout', kind: kinds.duration, default: '2s', doc: 'after the load phase, how long WebSockets get to end and reconcile their event streams' },
  { key: 'fixture', kind: kinds.switchOrObject, doc: 'load the embedded fixture: true, or its options (not with a target; run() needs this or a target)' },
  ...fixtureRows(),
  { key: 'fixture.process', kind: kinds.oneOf(['in-process', 'child']), flag: { long: 'fixture-process', value: 'where' }, defaultText: 'in-process; child with --leaks or --cpu-profile', doc: 'embedded fixture: in-process or child (its own process)' },
  { key: 'leaks', kind: kinds.switchOrObject, default: false, flag: { long: 'leaks' }, defaultText: 'off', doc: "read the target's heap between GC cycles and give a leak verdict" },
  { key: 'leaks.everyOps', kind: kinds.whole, check: atLeastOne, flag: { long: 'leak-every', value: 'ops' }, defaultText: '~30 readings over the planned load: every duration / 30 (iterations only: every planned ops / 30), at least 200 ops apart', doc: 'a heap reading every this many completed operations (turns --leaks on)' },
  { key: 'leaks.readings', kind: kinds.oneOf(['quiet', 'under-load']), default: 'quiet', flag: { long: 'leak-readings', value: 'how' }, doc: 'quiet: hold new iterations and let those in flight end before each reading (a short measured pause); under-load: read as the load runs, for servers that must not pause (turns --leaks on)' },
  { key: 'leaks.backend', kind: kinds.oneOf(['remote', 'in-process', 'memwatch']), flag: { long: 'heap-backend', value: 'kind' }, defaultText: 'remote', doc: 'where heap readings come from: remote (inspector on 127.0.0.1), in-process, or memwatch (optional, main thread)' },
  { key: 'leaks.suspects', kind: kinds.boolean, default: true, doc: 'name suspects when a leak is flagged' },
  { key: 'leaks.snapshots', kind: kinds.boolean, default: false, flag: { long: 'heap-snapshots' }, defaultText: 'off', doc: 'save a heap snapshot of a flagged leak in the report directory' },
  { key: 'leaks.diff', kind: kinds.oneOf(['auto', 'always', 'off']), default: 'auto', flag: { long: 'heap-diff', value: 'when' }, defaultText: 'auto', doc: 'heap diff (baseline/target/final snapshots) by class with retainer paths: auto (when a leak is flagged), always, or off' },
  { key: 'leaks.floorBytesPerOp', kind: kinds.decimal, default: 32, doc: 'growth below this many bytes per operation is never a leak' },
  { key: 'inspectTarget', kind: kinds.text, flag: { long: 'inspect-target', value: 'host:port' }, doc: 'the inspector of a --target URL started with node --inspect=127.0.0.1:PORT: host:port or its ws:// URL (for --leaks, --cpu-profile; a cmd: target needs none)' },
  { key: 'cpuProfile', kind: kinds.switchOrPath, default: false, flag: { long: 'cpu-profile' }, defaultText: 'off', doc: "save the target's CPU profile of the load phase as target.cpuprofile in the report directory" },
  { key: 'isolation', kind: kinds.object, doc: 'isolation checks' },
  { key: 'isolation.scan', kind: kinds.boolean, default: true, doc: "scan every response and frame for other users' canaries" },
  { key: 'isolation.barrierTimeout', kind: kinds.duration, default: '10s', doc: 'how long user.barrier() waits for missing users' },
  { key: 'signal', kind: kinds.abortSignal, codeOnly: true, doc: 'stops the run gracefully when aborted' },
  { key: 'onProgress', kind: kinds.fn, codeOnly: true, doc: 'called once a second with live figures' },
  { key: 'cwd', kind: kinds.text, codeOnly: true, doc: 'resolves relative scenario paths (default process.cwd())' }
]

/**
 * The fixture's own options, from its table. `crosstalk run` has no --fixture-port or
 * --fixture-host: the embedded fixture always binds a free port on 127.0.0.1 (a fixed port would
 * clash between runs; a config file or run() can still set fixture.port / fixture.host).
 */
function fixtureRows (): RunOptionRow[] {
  return FIXTURE_OPTION_TABLE.map(spec => ({
    key: `fixture.${spec.key}`,
    kind: kinds.fixtureKind(spec),
    ...(spec.key !== 'port' && spec.key !== 'host' && { flag: { long: `fixture-${spec.flag}`, value: spec.value, ...(spec.kind === 'list' && { repeatable: true }) } }),
    defaultText: fixtureDefault(FIXTURE_DEFAULTS[spec.key]),
    doc: `embedded fixture: ${spec.doc}`
  }))
}

function fixtureDefault (value: unknown): string {
  return Array.isArray(value) ? (value.length === 0 ? 'none' : value.join(', ')) : String(value)
}

export const RUN_OPTION_TABLE: readonly RunOptionRow[] = Object.freeze(RUN_ROWS)

const BY_KEY = new Map(RUN_OPTION_TABLE.map(r => [r.key, r]))

export function runOptionRow (key: string): RunOptionRow | undefined {
  return BY_KEY.get(key)
}

/** The default run() fills in for `key` (the table's); throws for a key the table lacks. */
export function defaultOf<T> (key: string): T {
  const row = BY_KEY.get(key)
  if (row === undefined) throw new Error(`no run option '${key}'`)
  return row.default as T
}

/** `-u, --users <n>`, as commander takes it and README shows it. */
export function flagText (flag: RunFlag): string {
  return `${flag.short === undefined ? '' : `-${flag.short}, `}--${flag.long}${flag.value === undefined ? '' : ` <${flag.value}>`}`
}

/** How the default reads (README's default column), if there is one worth saying. */
export function defaultText (row: RunOptionRow): string | undefined {
  return row.defaultText ?? (typeof row.default === 'string' || typeof row.default === 'number' ? String(row.default) : undefined)
}

/** The help line: the doc, and the default of a flag that takes a value (a switch is off unless given). */
export function flagHelp (row: RunOptionRow): string {
  const d = defaultText(row)
  return d === undefined || row.flag?.value === undefined ? row.doc : `${row.doc} (default: ${d})`
}
