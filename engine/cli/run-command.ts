// `crosstalk run [scenario]`: flags -> run() -> summary + report.json -> exit code.
import type { Command } from 'commander'
import { ConfigError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED } from '../errors.js'
import { formatSummary, JSON_REPORT_FILE } from '../report/index.js'
import { DEFAULTS, run, type RunOptions, type FixtureProcess } from '../runner/index.js'
import { join, resolve } from 'node:path'
import { createProgressPrinter } from './progress.js'
import { collect, wholeNumber } from './parse.js'
import { fixtureOptionsFromFlags } from './fixture-flags.js'

interface RunFlags {
  target?: string
  users?: string
  duration?: string
  iterations?: string
  workers?: string
  out: string
  quiet?: boolean
  allowRemote?: boolean
  requestTimeout?: string
  setupTimeout?: string
  fixtureMode?: string
  fixtureBug?: string[]
  fixtureLatencyMs?: string
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
    .option('-t, --target <url>', 'base URL of the server under test (default: start the embedded fixture)')
    .option('-u, --users <n>', `simultaneous virtual users (default ${DEFAULTS.users})`)
    .option('-d, --duration <duration>', `load phase length, e.g. 30s, 2m (default ${DEFAULTS.duration} unless --iterations)`)
    .option('-i, --iterations <n>', 'iterations per user')
    .option('-w, --workers <n>', 'worker threads (default: cores - 1, at least 2)')
    .option('-o, --out <dir>', 'directory for report.json', './crosstalk-report')
    .option('-q, --quiet', 'no progress line and no summary')
    .option('--allow-remote', 'allow a target that is not a loopback address')
    .option('--request-timeout <duration>', `per-request timeout (default ${DEFAULTS.requestTimeout})`)
    .option('--setup-timeout <duration>', `per-user setup timeout (default ${DEFAULTS.setupTimeout})`)
    .option('--fixture-mode <mode>', 'embedded fixture: legacy or context')
    .option('--fixture-bug <name>', 'embedded fixture: plant a bug (repeatable)', collect)
    .option('--fixture-latency-ms <ms>', 'embedded fixture: fixed delay per response')
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

function toRunOptions (scenario: string | undefined, f: RunFlags): RunOptions {
  const problems: string[] = []
  const o: RunOptions = { out: f.out }
  if (scenario !== undefined) o.scenario = scenario
  if (f.target !== undefined) o.target = f.target
  if (f.allowRemote === true) o.allowRemote = true
  const users = wholeNumber('--users', f.users, problems)
  if (users !== undefined) o.users = users
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
  const fixtureFlags = [f.fixtureMode, f.fixtureBug, f.fixtureLatencyMs, f.fixtureErrorRate, f.fixtureEventsPerSecond, f.fixtureEventRate, f.fixtureLeak, f.fixtureProcess].some(v => v !== undefined)
  if (f.target === undefined) {
    const fixture: NonNullable<RunOptions['fixture']> = fixtureOptionsFromFlags({
      mode: f.fixtureMode,
      bug: f.fixtureBug,
      leak: f.fixtureLeak,
      latencyMs: f.fixtureLatencyMs,
      errorRate: f.fixtureErrorRate,
      eventsPerSecond: f.fixtureEventsPerSecond,
      eventRate: f.fixtureEventRate
    }, 'fixture-', problems)
    if (f.fixtureProcess !== undefined) fixture.process = f.fixtureProcess as FixtureProcess
    o.fixture = fixture
  } else if (fixtureFlags) {
    problems.push('--fixture-* flags configure the embedded fixture and cannot be combined with --target')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return o
}

async function runCommand (scenario: string | undefined, flags: RunFlags): Promise<number> {
  const options = toRunOptions(scenario, flags)
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
    if (flags.quiet !== true) process.stdout.write(formatSummary(result, resolve(join(flags.out, JSON_REPORT_FILE))) + '\n')
    if (result.status === 'interrupted') return EXIT_INTERRUPTED
    return result.status === 'passed' ? EXIT_PASSED : EXIT_FAILED
  } finally {
    progress?.done()
    process.off('SIGINT', onSigint)
  }
}
