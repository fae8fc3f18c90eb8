// Every error crosstalk raises on purpose, with a stable code (as undici's UND_ERR_*).
// The CLI prints `crosstalk: <code>: <message>` and exits with `exitCode`.

export const EXIT_PASSED = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
// An interrupted run is a result (status `interrupted`), not an error: it has no error class.
export const EXIT_INTERRUPTED = 130
/** Stopped by SIGTERM (CI cancellation, `timeout`, a container stop): 128 + 15, as a shell reports it. */
export const EXIT_TERMINATED = 143

/** What to do when users run out of file descriptors (the preflight's error and warning, and EMFILE during a run). */
export const OPEN_FILES_HINT = 'raise the limit with `ulimit -n <n>` before crosstalk, or run fewer users per process'

/** The request an error of a user came from (error groups key on its route, not its raw path). */
export interface ErrorRequest { method: string, path: string, status?: number }

export class CrosstalkError extends Error {
  readonly code: string = 'CT_ERR'
  /** Exit code of the CLI when this error ends a command. */
  readonly exitCode: number = EXIT_USAGE
  readonly request?: ErrorRequest
  constructor (message: string, options?: { cause?: unknown, request?: ErrorRequest }) {
    super(message, options)
    this.name = new.target.name
    if (options?.request !== undefined) this.request = options.request
  }
}

/** Options that do not validate (all problems are reported at once, one per line). */
export class ConfigError extends CrosstalkError {
  override readonly code = 'CT_ERR_CONFIG'
  readonly problems: string[]
  constructor (problems: string[] | string) {
    const list = Array.isArray(problems) ? problems : [problems]
    super(list.length === 1 ? list[0]! : [`${list.length} problems:`, ...list.map(p => `  - ${p}`)].join('\n'))
    this.problems = list
  }
}

/** Unknown command, unknown flag, missing flag value. */
export class UsageError extends CrosstalkError {
  override readonly code = 'CT_ERR_USAGE'
}

export class InvalidDurationError extends CrosstalkError {
  override readonly code = 'CT_ERR_DURATION'
}

/** A comparison budget that does not parse (`p95=+10%`, `throughput=-5%`, `errorRate=+0.01`). */
export class BudgetSyntaxError extends CrosstalkError {
  override readonly code = 'CT_ERR_BUDGET_SYNTAX'
}

export class ScenarioNotFoundError extends CrosstalkError {
  override readonly code = 'CT_ERR_SCENARIO_NOT_FOUND'
}

/** The scenario file exists but cannot be imported (syntax error, throwing module, unknown extension). */
export class ScenarioLoadError extends CrosstalkError {
  override readonly code = 'CT_ERR_SCENARIO_LOAD'
}

/** The scenario module imports but does not export what a scenario needs. */
export class ScenarioInvalidError extends CrosstalkError {
  override readonly code = 'CT_ERR_SCENARIO_INVALID'
}

/**
 * The scenario's run-wide `before` threw, rejected, overran `runStepTimeout`, or returned data
 * that cannot be structured-cloned to the workers: the run stops before any user is set up.
 */
export class RunSetupError extends CrosstalkError {
  override readonly code = 'CT_ERR_RUN_SETUP'
}

/** A threshold expression, key or definition that does not parse (`p(95<50`, `x{name}`, `[]`). */
export class ThresholdSyntaxError extends CrosstalkError {
  override readonly code = 'CT_ERR_THRESHOLD_SYNTAX'
}

/** A threshold on an unknown metric, or with an aggregation its metric's kind does not have (`avg` of a rate). */
export class ThresholdMetricError extends CrosstalkError {
  override readonly code = 'CT_ERR_THRESHOLD_METRIC'
}

/** The report directory (`--out`) cannot be created or written: checked before any load. */
export class OutDirError extends CrosstalkError {
  override readonly code = 'CT_ERR_OUT'
}

/** The users file (`--users-file`) cannot be read, does not parse, is empty, or has fewer rows than users: checked before any load. */
export class UsersFileError extends CrosstalkError {
  override readonly code = 'CT_ERR_USERS_FILE'
}

export class PortInUseError extends CrosstalkError {
  override readonly code = 'CT_ERR_PORT_IN_USE'
}

export class TargetUnreachableError extends CrosstalkError {
  override readonly code = 'CT_ERR_TARGET_UNREACHABLE'
}

/** Load may only go to loopback unless the user explicitly allows otherwise. */
export class TargetNotLoopbackError extends CrosstalkError {
  override readonly code = 'CT_ERR_TARGET_NOT_LOOPBACK'
}

/** A shard's coordinated start failed: the coordinator unreachable or refusing, or no release within --start-timeout. */
export class StartError extends CrosstalkError {
  override readonly code = 'CT_ERR_START'
}

/** Shard reports that cannot be merged into one run's report (another run, a missing or doubled shard, no histograms). */
export class MergeError extends CrosstalkError {
  override readonly code = 'CT_ERR_MERGE'
}

/** A network wait ran out of time (HTTP request, WebSocket connect or message). */
export class TimeoutError extends CrosstalkError {
  override readonly code = 'CT_ERR_TIMEOUT'
  override readonly exitCode = EXIT_FAILED
}

/** An HTTP request failed at the transport level (refused, reset, aborted). */
export class HttpRequestError extends CrosstalkError {
  override readonly code = 'CT_ERR_HTTP'
  override readonly exitCode = EXIT_FAILED
}

export class WebSocketError extends CrosstalkError {
  override readonly code = 'CT_ERR_WS'
  override readonly exitCode = EXIT_FAILED
}

/** An optional library a feature needs is not installed (e.g. socket.io-client for `user.io()`). */
export class MissingDependencyError extends CrosstalkError {
  override readonly code = 'CT_ERR_DEPENDENCY'
}

/** A worker thread or the pool failed; its users are reported as lost. */
export class WorkerError extends CrosstalkError {
  override readonly code = 'CT_ERR_WORKER'
  override readonly exitCode = EXIT_FAILED
}

/** Anything thrown that is not a CrosstalkError: a bug in crosstalk (the CLI prints its stack). */
export class InternalError extends CrosstalkError {
  override readonly code = 'CT_ERR_INTERNAL'
  override readonly exitCode = EXIT_FAILED
}

export function isCrosstalkError (err: unknown): err is CrosstalkError {
  return err instanceof CrosstalkError
}
