// `crosstalk compare --baseline <b> --candidate <c> [scenario]`: interleaved rounds, a verdict
// against budgets, a table on the terminal, compare.json + compare.md + compare.html on disk
// (compare.md also appended to $GITHUB_STEP_SUMMARY when set).
import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { checkCompareInput, compare, specLabel, COMPARE_DEFAULTS, COMPARE_JSON_FILE, formatComparisonMarkdown, formatComparisonTable } from '../compare/index.js'
import { appendStepSummary } from '../report/index.js'
import { EXIT_FAILED, EXIT_PASSED } from '../errors.js'
import { METRICS } from '../metrics/index.js'
import { checkRunOptions, Problems, runOptionRow, runOptionsFromFlags, type FlagValues } from '../options/index.js'
import { collect, wholeNumber } from './parse.js'
import { StopSignals } from './stop-signals.js'
import { addTableFlags } from './table-flags.js'

interface CompareFlags {
  baseline: string
  candidate: string
  rounds?: string
  budget?: string[]
  leaks?: boolean
  warmup?: string
  seed?: string
  out: string
  quiet?: boolean
}

/** The run flags compare shares with `run`, from the same table (same names, kinds and help). */
const SHARED_RUN_ROWS = ['users', 'duration', 'workers', 'executor', 'rate', 'stages', 'allowRemote'].map(key => runOptionRow(key)!)

export function registerCompareCommand (program: Command): void {
  const command = program.command('compare')
    .description('run one scenario against a baseline and a candidate in interleaved rounds and judge the difference')
    .argument('[scenario]', 'built-in scenario name or a scenario file (default: default)')
    .requiredOption('-b, --baseline <target>', 'URL, fixture:legacy | fixture:context[?latencyMs=12&bugs=a,b], cmd:<command that serves on $PORT>, or a report.json')
    .requiredOption('-c, --candidate <target>', 'the same forms as --baseline')
    .option('--rounds <n>', `baseline/candidate pairs, alternating which goes first (default ${COMPARE_DEFAULTS.rounds})`)
    .option('--budget <metric=change>', "allowed change in the worse direction (repeatable), e.g. 'p95=+10%', 'throughput=-5%', 'errorRate=+0.01'", collect)
    .option('--leaks', 'also compare heap growth per operation (fixture: and cmd: targets, started with their inspector)')
    .option('--warmup <seconds>', 'seconds left out at the start of each run (default 1)')
    .option('--seed <n>', 'bootstrap seed (results are reproducible)')
    .option('-o, --out <dir>', 'directory for compare.json, compare.md, compare.html and the runs\' reports', './crosstalk-compare')
    .option('-q, --quiet', 'no per-run lines and no table')
  const runFlags = addTableFlags(command, SHARED_RUN_ROWS)
  command.action(async (scenario: string | undefined, flags: CompareFlags & Record<string, unknown>) => {
    process.exitCode = await compareCommand(scenario, flags, runFlags(flags))
  })
}

async function compareCommand (scenario: string | undefined, f: CompareFlags, runFlags: FlagValues): Promise<number> {
  const flagProblems: string[] = []
  const rounds = wholeNumber('--rounds', f.rounds, flagProblems)
  const warmupS = wholeNumber('--warmup', f.warmup, flagProblems)
  const seed = wholeNumber('--seed', f.seed, flagProblems)
  const problems = new Problems()
  for (const p of flagProblems) problems.add(p)
  const { allowRemote, ...run } = runOptionsFromFlags(runFlags, {}, problems, SHARED_RUN_ROWS)
  // the runs' options, checked now with the flags (compare() checks them again, for API callers)
  checkRunOptions({ ...run, target: 'http://127.0.0.1:9/' }, problems)
  // and compare's own: rounds, budgets, both targets (compare() checks them again, for API callers)
  checkCompareInput({ baseline: f.baseline, candidate: f.candidate, ...(rounds !== undefined && { rounds }), ...(f.budget !== undefined && { budgets: f.budget }) }, problems)
  problems.throwIfAny()
  const signals = new StopSignals('finishing the current run and writing what was measured')
  try {
    const result = await compare({
      baseline: f.baseline,
      candidate: f.candidate,
      ...(scenario !== undefined && { scenario }),
      ...(rounds !== undefined && { rounds }),
      run,
      ...(f.leaks === true && { leaks: true }),
      ...(f.budget !== undefined && { budgets: f.budget }),
      ...(warmupS !== undefined && { warmupS }),
      ...(seed !== undefined && { seed }),
      out: f.out,
      allowRemote: allowRemote === true,
      signal: signals.signal,
      onRun: ({ round, rounds: total, side, spec, result: r }) => {
        if (f.quiet === true) return
        const load = r.loadDurationMs / 1000
        const reqs = r.metrics[METRICS.httpReqs]
        const dur = r.metrics[METRICS.httpReqDuration]
        const rps = reqs?.type === 'counter' ? Math.round(reqs.count / Math.max(load, 0.001)) : 0
        const p95 = dur?.type === 'trend' ? `${dur.p95.toFixed(2)} ms` : 'n/a'
        process.stderr.write(`round ${round}/${total} ${side.padEnd(9)} ${specLabel(spec)}: ${load.toFixed(1)}s, ${rps.toLocaleString('en-US')} req/s, p95 ${p95}, ${r.isolation.violations} isolation violations\n`)
      }
    })
    if (f.quiet !== true) process.stdout.write(formatComparisonTable(result) + `\n  report ${resolve(join(f.out, COMPARE_JSON_FILE))}\n`)
    await appendStepSummary(formatComparisonMarkdown(result))
    if (signals.signal.aborted) return signals.exitCode
    return result.verdict === 'fail' ? EXIT_FAILED : EXIT_PASSED
  } finally {
    signals.close()
  }
}
