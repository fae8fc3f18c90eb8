// `crosstalk run [scenario]`: flags -> run() -> summary + report.json -> exit code.
import type { Command } from 'commander'
import { ConfigError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED } from '../errors.js'
import { formatSummary, JSON_REPORT_FILE } from '../report/index.js'
import { DEFAULTS, type RunOptions } from '../options/index.js'
import { run } from '../runner/index.js'
import type { FixtureProcess } from '../target/index.js'
import { join, resolve } from 'node:path'
import { createProgressPrinter } from './progress.js'
import { collect, decimal, wholeNumber } from './parse.js'
import { CONFIG_FILES, loadConfigFile, type ConfigFileOptions } from './config-file.js'
import { EXECUTORS, type ExecutorName } from '../result/index.js'
import { EXECUTOR_DEFAULTS } from '../load/index.js'
import { mergeThresholdFlags } from '../thresholds/index.js'

const DEFAULT_OUT = './crosstalk-report'
import { fixtureOptionsFromFlags } from './fixture-flags.js'

interface RunFlags {
  config?: string
  target?: string
  executor?: string
  rate?: string
  startRate?: string
  stages?: string
  maxUsers?: string
  peakUsers?: string
  startUsers?: string
  gracefulStop?: string
  threshold?: string[]
  users?: string
  duration?: string
  iterations?: string
  workers?: string
  out?: string
  quiet?: boolean
  allowRemote?: boolean
  requestTimeout?: string
  setupTimeout?: string
  fixtureMode?: string
  fixtureBug?: string[]
  fixtureLatencyMs?: string
  fixtureConcurrency?: string
  fixtureErrorRate?: string
  fixtureEventsPerSecond?: string
  fixtureEventRate?: string
  fixtureProcess?: string
  fixtureLeak?: string[]
  leaks?: boolean
  leakEvery?: string
  heapBackend?: string
  inspectTarget?: string
  cpuProfile?: boolean
  heapSnapshots?: boolean
}

export function registerRunCommand (program: Command): void {
  program.command('run')
    .description('run a scenario with many simultaneous users and report what happened')
    .argument('[scenario]', 'built-in scenario name (default, items, events) or a scenario file (.js)')
    .option('-c, --config <file>', `run options from a file (default: ${CONFIG_FILES[0]} or .ts/.js in the current directory); flags win`)
    .option('-t, --target <url>', 'base URL of the server under test (default: start the embedded fixture)')
    .option('-e, --executor <name>', `how load is applied: ${EXECUTORS.join(', ')} (default constant-users)`)
    .option('-u, --users <n>', `simultaneous virtual users (default ${DEFAULTS.users}); spike: the baseline; arrival-rate executors: users set up before the start (default ${EXECUTOR_DEFAULTS.preAllocatedUsers})`)
    .option('-d, --duration <duration>', `load phase length, e.g. 30s, 2m (default ${DEFAULTS.duration} unless --iterations)`)
    .option('-i, --iterations <n>', 'constant-users: iterations per user')
    .option('-r, --rate <n>', 'constant-arrival-rate: iterations per second; breakpoint: the rate to ramp up to')
    .option('--start-rate <n>', 'ramping-arrival-rate, breakpoint: iterations per second at the start')
    .option('-s, --stages <list>', "ramping executors: duration:target pairs, e.g. '10s:100,20s:1000' (users, or iterations/s)")
    .option('--max-users <n>', `arrival-rate executors: the most users that may be set up (default ${EXECUTOR_DEFAULTS.maxUsers})`)
    .option('--peak-users <n>', `spike: users at the peak (default ${EXECUTOR_DEFAULTS.users})`)
    .option('--start-users <n>', 'ramping-users: users at the start (default 0)')
    .option('--graceful-stop <duration>', `in-flight iterations get this long after the load phase (default ${DEFAULTS.gracefulStop})`)
    .option('--threshold <metric: expression>', "fail the run unless it holds (repeatable), e.g. 'http.req.duration: p(95)<50', 'http.req.duration{name:get item}: p(99)<200'", (v: string, prev: string[] = []) => [...prev, v])
    .option('-w, --workers <n>', 'worker threads (default: cores - 1, at least 2)')
    .option('-o, --out <dir>', `directory for report.json (default ${DEFAULT_OUT})`)
    .option('-q, --quiet', 'no progress line and no summary')
    .option('--allow-remote', 'allow a target that is not a loopback address')
    .option('--request-timeout <duration>', `per-request timeout (default ${DEFAULTS.requestTimeout})`)
    .option('--setup-timeout <duration>', `per-user setup timeout (default ${DEFAULTS.setupTimeout})`)
    .option('--fixture-mode <mode>', 'embedded fixture: legacy or context')
    .option('--fixture-bug <name>', 'embedded fixture: plant a bug (repeatable)', collect)
    .option('--fixture-latency-ms <ms>', 'embedded fixture: fixed delay per response')
    .option('--fixture-concurrency <n>', 'embedded fixture: requests handled at once, the rest queue (default unlimited)')
    .option('--fixture-error-rate <fraction>', 'embedded fixture: share of requests answered 500')
    .option('--fixture-events-per-second <n>', 'embedded fixture: events per second per WebSocket')
    .option('--fixture-event-rate <n>', 'embedded fixture: events per second over all WebSockets (overrides the per-socket rate)')
    .option('--fixture-process <where>', 'embedded fixture: in-process or child (default: in-process; child with --leaks or --cpu-profile)')
    .option('--fixture-leak <name>', 'embedded fixture: plant a memory leak (repeatable): listener-leak, map-leak, timer-closure-leak, bounded-cache', collect)
    .option('--leaks', 'read the target\'s heap between GC cycles and give a leak verdict')
    .option('--leak-every <ops>', 'a heap reading every this many completed operations (default 1000)')
    .option('--heap-backend <kind>', 'remote (inspector on 127.0.0.1), in-process, or memwatch (optional, main thread)')
    .option('--inspect-target <host:port>', 'the inspector of a --target started with node --inspect=127.0.0.1:PORT')
    .option('--heap-snapshots', 'save a heap snapshot of a flagged leak in the report directory')
    .option('--cpu-profile', 'save the target\'s CPU profile of the run as target.cpuprofile in the report directory')
    .action(async (scenario: string | undefined, flags: RunFlags) => {
      process.exitCode = await runCommand(scenario, flags)
    })
}

function toRunOptions (scenario: string | undefined, f: RunFlags, config: ConfigFileOptions): RunOptions {
  const problems: string[] = []
  const o: RunOptions = { ...config, out: f.out ?? config.out ?? DEFAULT_OUT }
  if (scenario !== undefined) o.scenario = scenario
  if (f.target !== undefined) o.target = f.target
  if (f.allowRemote === true) o.allowRemote = true
  if (f.executor !== undefined) o.executor = f.executor as ExecutorName
  for (const [flag, key, value] of [['--users', 'users', f.users], ['--max-users', 'maxUsers', f.maxUsers], ['--peak-users', 'peakUsers', f.peakUsers], ['--start-users', 'startUsers', f.startUsers]] as const) {
    const n = wholeNumber(flag, value, problems)
    if (n !== undefined) o[key] = n
  }
  for (const [flag, key, value] of [['--rate', 'rate', f.rate], ['--start-rate', 'startRate', f.startRate]] as const) {
    const n = decimal(flag, value, problems)
    if (n !== undefined) o[key] = n
  }
  if (f.stages !== undefined) o.stages = f.stages
  if (f.gracefulStop !== undefined) o.gracefulStop = f.gracefulStop
  if (f.threshold !== undefined) o.thresholds = mergeThresholdFlags(config.thresholds, f.threshold)
  if (f.duration !== undefined) o.duration = f.duration
  const iterations = wholeNumber('--iterations', f.iterations, problems)
  if (iterations !== undefined) o.iterations = iterations
  const workers = wholeNumber('--workers', f.workers, problems)
  if (workers !== undefined) o.workers = workers
  if (f.requestTimeout !== undefined) o.requestTimeout = f.requestTimeout
  if (f.setupTimeout !== undefined) o.setupTimeout = f.setupTimeout
  if (f.leaks === true || f.leakEvery !== undefined || f.heapBackend !== undefined || f.heapSnapshots === true) {
    const everyOps = wholeNumber('--leak-every', f.leakEvery, problems)
    o.leaks = {
      ...(everyOps !== undefined && { everyOps }),
      ...(f.heapBackend !== undefined && { backend: f.heapBackend as 'remote' }),
      ...(f.heapSnapshots === true && { snapshots: true })
    }
  }
  if (f.inspectTarget !== undefined) o.inspectTarget = f.inspectTarget
  if (f.cpuProfile === true) o.cpuProfile = true
  const fixtureFlags = [f.fixtureMode, f.fixtureBug, f.fixtureLatencyMs, f.fixtureConcurrency, f.fixtureErrorRate, f.fixtureEventsPerSecond, f.fixtureEventRate, f.fixtureLeak, f.fixtureProcess].some(v => v !== undefined)
  if (o.target === undefined) {
    const fixture: NonNullable<RunOptions['fixture']> = fixtureOptionsFromFlags({
      mode: f.fixtureMode,
      bug: f.fixtureBug,
      leak: f.fixtureLeak,
      latencyMs: f.fixtureLatencyMs,
      concurrency: f.fixtureConcurrency,
      errorRate: f.fixtureErrorRate,
      eventsPerSecond: f.fixtureEventsPerSecond,
      eventRate: f.fixtureEventRate
    }, 'fixture-', problems)
    if (f.fixtureProcess !== undefined) fixture.process = f.fixtureProcess as FixtureProcess
    o.fixture = { ...config.fixture, ...fixture }
  } else if (fixtureFlags) {
    problems.push('--fixture-* flags configure the embedded fixture and cannot be combined with --target')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return o
}

async function runCommand (scenario: string | undefined, flags: RunFlags): Promise<number> {
  const config = await loadConfigFile(flags.config, process.cwd())
  const options = toRunOptions(scenario, flags, config?.options ?? {})
  const out = options.out ?? DEFAULT_OUT
  const controller = new AbortController()
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED) // second Ctrl-C: leave now
    process.stderr.write('\ncrosstalk: interrupted, stopping users and writing the report (Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  const progress = flags.quiet === true ? undefined : createProgressPrinter(process.stderr)
  try {
    const result = await run({ ...options, signal: controller.signal, ...(progress !== undefined && { onProgress: progress.update }) })
    progress?.done()
    if (flags.quiet !== true) process.stdout.write(formatSummary(result, resolve(join(out, JSON_REPORT_FILE))) + '\n')
    if (result.status === 'interrupted') return EXIT_INTERRUPTED
    return result.status === 'passed' ? EXIT_PASSED : EXIT_FAILED
  } finally {
    progress?.done()
    process.off('SIGINT', onSigint)
  }
}
