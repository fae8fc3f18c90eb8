// `crosstalk compare --baseline <b> --candidate <c> [scenario]`: interleaved rounds, a verdict
// against budgets, a table on the terminal, compare.json + compare.md on disk.
import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { compare, COMPARE_DEFAULTS, COMPARE_JSON_FILE, formatComparisonTable } from '../compare/index.js'
import { ConfigError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED } from '../errors.js'
import { EXECUTORS, type ExecutorName } from '../result/index.js'
import { METRICS } from '../metrics/index.js'
import { collect, decimal, wholeNumber } from './parse.js'

interface CompareFlags {
  baseline: string
  candidate: string
  rounds?: string
  users?: string
  duration?: string
  workers?: string
  executor?: string
  rate?: string
  stages?: string
  budget?: string[]
  leaks?: boolean
  warmup?: string
  seed?: string
  out: string
  quiet?: boolean
  allowRemote?: boolean
}

export function registerCompareCommand (program: Command): void {
  program.command('compare')
    .description('run one scenario against a baseline and a candidate in interleaved rounds and judge the difference')
    .argument('[scenario]', 'built-in scenario name or a scenario file (default: default)')
    .requiredOption('-b, --baseline <target>', 'URL, fixture:legacy | fixture:context[?latencyMs=12&bugs=a,b], cmd:<command that serves on $PORT>, or a report.json')
    .requiredOption('-c, --candidate <target>', 'the same forms as --baseline')
    .option('--rounds <n>', `baseline/candidate pairs, alternating which goes first (default ${COMPARE_DEFAULTS.rounds})`)
    .option('-u, --users <n>', 'users of each run (default as `run`)')
    .option('-d, --duration <duration>', 'load phase of each run (default as `run`)')
    .option('-w, --workers <n>', 'worker threads')
    .option('-e, --executor <name>', `executor of each run: ${EXECUTORS.join(', ')}`)
    .option('-r, --rate <n>', 'arrival-rate executors: iterations per second')
    .option('-s, --stages <list>', "ramping executors: e.g. '10s:100,20s:1000'")
    .option('--budget <metric=change>', "allowed change in the worse direction (repeatable), e.g. 'p95=+10%', 'throughput=-5%', 'errorRate=+0.01'", collect)
    .option('--leaks', 'also compare heap growth per operation (fixture targets)')
    .option('--warmup <seconds>', 'seconds left out at the start of each run (default 1)')
    .option('--seed <n>', 'bootstrap seed (results are reproducible)')
    .option('-o, --out <dir>', 'directory for compare.json, compare.md and the runs\' reports', './crosstalk-compare')
    .option('-q, --quiet', 'no per-run lines and no table')
    .option('--allow-remote', 'allow targets that are not loopback addresses')
    .action(async (scenario: string | undefined, flags: CompareFlags) => {
      process.exitCode = await compareCommand(scenario, flags)
    })
}

async function compareCommand (scenario: string | undefined, f: CompareFlags): Promise<number> {
  const problems: string[] = []
  const rounds = wholeNumber('--rounds', f.rounds, problems)
  const users = wholeNumber('--users', f.users, problems)
  const workers = wholeNumber('--workers', f.workers, problems)
  const rate = decimal('--rate', f.rate, problems)
  const warmupS = wholeNumber('--warmup', f.warmup, problems)
  const seed = wholeNumber('--seed', f.seed, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  const controller = new AbortController()
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED)
    process.stderr.write('\ncrosstalk: interrupted, finishing the current run (Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    const result = await compare({
      baseline: f.baseline,
      candidate: f.candidate,
      ...(scenario !== undefined && { scenario }),
      ...(rounds !== undefined && { rounds }),
      run: {
        ...(users !== undefined && { users }),
        ...(f.duration !== undefined && { duration: f.duration }),
        ...(workers !== undefined && { workers }),
        ...(f.executor !== undefined && { executor: f.executor as ExecutorName }),
        ...(rate !== undefined && { rate }),
        ...(f.stages !== undefined && { stages: f.stages })
      },
      ...(f.leaks === true && { leaks: true }),
      ...(f.budget !== undefined && { budgets: f.budget }),
      ...(warmupS !== undefined && { warmupS }),
      ...(seed !== undefined && { seed }),
      out: f.out,
      allowRemote: f.allowRemote === true,
      signal: controller.signal,
      onRun: ({ round, rounds: total, side, spec, result: r }) => {
        if (f.quiet === true) return
        const load = r.loadDurationMs / 1000
        const reqs = r.metrics[METRICS.httpReqs]
        const dur = r.metrics[METRICS.httpReqDuration]
        const rps = reqs?.type === 'counter' ? Math.round(reqs.count / Math.max(load, 0.001)) : 0
        const p95 = dur?.type === 'trend' ? `${dur.p95.toFixed(2)} ms` : 'n/a'
        process.stderr.write(`round ${round}/${total} ${side.padEnd(9)} ${spec}: ${load.toFixed(1)}s, ${rps.toLocaleString('en-US')} req/s, p95 ${p95}, ${r.isolation.violations} isolation violations\n`)
      }
    })
    if (f.quiet !== true) process.stdout.write(formatComparisonTable(result) + `\n  report ${resolve(join(f.out, COMPARE_JSON_FILE))}\n`)
    if (controller.signal.aborted) return EXIT_INTERRUPTED
    return result.verdict === 'fail' ? EXIT_FAILED : EXIT_PASSED
  } finally {
    process.off('SIGINT', onSigint)
  }
}
