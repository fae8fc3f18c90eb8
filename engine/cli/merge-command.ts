// `crosstalk merge <shard report.json...>`: the shards of one run (--shard i/n) merged into the
// report one process would have written, rendered like any run's; exits as the run would have.
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { EXIT_FAILED, EXIT_PASSED } from '../errors.js'
import { mergeShards } from '../distributed/index.js'
import { appendStepSummary, formatMarkdownSummary, formatSummary } from '../report/index.js'
import { checkOutDir } from '../runner/index.js'

interface MergeFlags {
  out: string
  html?: boolean
  md?: boolean
  junit?: boolean
  quiet?: boolean
}

export function registerMergeCommand (program: Command): void {
  program.command('merge')
    .description("merge the report.json of every shard of a run (--shard i/n) into the run's report: exact counts, percentiles from merged histograms, thresholds on the merged totals")
    .argument('<reports...>', "each shard's report.json")
    .option('-o, --out <dir>', 'directory for the merged report.json, report.html, summary.md and junit.xml', './crosstalk-merged')
    .option('--no-html', 'no report.html')
    .option('--no-md', 'no summary.md')
    .option('--no-junit', 'no junit.xml')
    .option('-q, --quiet', 'no summary')
    .action(async (reports: string[], flags: MergeFlags) => {
      process.exitCode = await mergeCommand(reports, flags)
    })
}

async function mergeCommand (reports: string[], f: MergeFlags): Promise<number> {
  const out = resolve(f.out)
  await checkOutDir(out)
  const formats = { html: f.html !== false, md: f.md !== false, junit: f.junit !== false }
  const { result, reportPath } = await mergeShards({ reports, out, formats })
  if (formats.md) await appendStepSummary(formatMarkdownSummary(result))
  if (f.quiet !== true) process.stdout.write(formatSummary(result, reportPath) + '\n')
  return result.status === 'passed' ? EXIT_PASSED : EXIT_FAILED
}
