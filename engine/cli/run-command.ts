// `crosstalk run [scenario]`: flags (registered from the run option table) over the config file
// -> every problem at once -> run() -> summary + report files (+ $GITHUB_STEP_SUMMARY) -> exit code.
import type { Command } from 'commander'
import { join, resolve } from 'node:path'
import { EXIT_FAILED, EXIT_PASSED } from '../errors.js'
import { appendStepSummary, formatMarkdownSummary, formatSummary, JSON_REPORT_FILE, resultSummary } from '../report/index.js'
import { checkRunOptions, DEFAULT_OUT, Problems, RUN_OPTION_TABLE, runOptionsFromFlags, type FlagValues, type RunOptions } from '../options/index.js'
import { builtInScenarios } from '../scenario/index.js'
import { run } from '../runner/index.js'
import { createProgressPrinter } from './progress.js'
import { loadConfigFile } from './config-file.js'
import { StopSignals } from './stop-signals.js'
import { addTableFlags } from './table-flags.js'

export function registerRunCommand (program: Command): void {
  const command = program.command('run')
    .description('run a scenario with many simultaneous users and report what happened')
    .argument('[scenario]', `built-in scenario name (${builtInScenarios().join(', ')}) or a scenario file (.js, .mjs, .ts, .mts)`)
  const flagValues = addTableFlags(command, RUN_OPTION_TABLE)
  command.action(async (scenario: string | undefined, opts: Record<string, unknown>) => {
    process.exitCode = await runCommand(scenario, flagValues(opts), opts)
  })
}

/** Said first when no target is given: the embedded fixture is loaded, never silently. */
const EMBEDDED_FIXTURE_NOTE = "target: embedded fixture (no --target given; --target <url> or --target 'cmd:<command>' loads your server)"

/**
 * Flags over the config file, checked with every problem at once (before any load). Without a
 * target (flag or file) the command loads the embedded fixture, as run() does with `fixture: true`.
 */
async function runOptions (scenario: string | undefined, flags: FlagValues, opts: Record<string, unknown>): Promise<RunOptions> {
  const problems = new Problems()
  const file = await loadConfigFile(opts.config as string | undefined, process.cwd(), problems)
  const options = runOptionsFromFlags(flags, { ...file?.options, ...(scenario !== undefined && { scenario }) }, problems)
  if (options.target === undefined && options.fixture === undefined) options.fixture = true
  if (opts.json === true && options.outNdjson === '-') problems.add('--json and --out-ndjson - both write to stdout: give --out-ndjson a file')
  checkRunOptions(options, problems)
  problems.throwIfAny()
  return options
}

async function runCommand (scenario: string | undefined, flags: FlagValues, opts: Record<string, unknown>): Promise<number> {
  const options = await runOptions(scenario, flags, opts)
  const quiet = opts.quiet === true
  const json = opts.json === true
  // with --json or --out-ndjson -, stdout carries the JSON alone: what people read goes to stderr
  const text = json || options.outNdjson === '-' ? process.stderr : process.stdout
  const out = options.out ?? DEFAULT_OUT
  const signals = new StopSignals('stopping users and writing the report')
  const progress = quiet ? undefined : createProgressPrinter(process.stderr)
  if (!quiet && options.target === undefined) text.write(`${EMBEDDED_FIXTURE_NOTE}\n`)
  try {
    const result = await run({ ...options, signal: signals.signal, ...(progress !== undefined && { onProgress: progress.update }) })
    progress?.done()
    if (!quiet) text.write(formatSummary(result, resolve(join(out, JSON_REPORT_FILE))) + '\n')
    if (options.reports?.md !== false) await appendStepSummary(formatMarkdownSummary(result))
    if (json) process.stdout.write(JSON.stringify(resultSummary(result), null, 2) + '\n')
    if (result.status === 'interrupted') return signals.exitCode
    return result.status === 'passed' ? EXIT_PASSED : EXIT_FAILED
  } finally {
    progress?.done()
    signals.close()
  }
}
