// `crosstalk report <report.json>`: renders report.html, summary.md and junit.xml again from a
// saved report (another machine's, a CI artifact, one written with --no-html), without a run.
import type { Command } from 'commander'
import { dirname, resolve } from 'node:path'
import { EXIT_PASSED } from '../errors.js'
import { appendStepSummary, formatMarkdownSummary, readJsonReport, writeRenderedReports, type ReportFormats } from '../report/index.js'
import { checkOutDir } from '../runner/index.js'

interface ReportFlags {
  html?: boolean
  md?: boolean
  junit?: boolean
  out?: string
  quiet?: boolean
}

export function registerReportCommand (program: Command): void {
  program.command('report')
    .description('render report.html, summary.md and junit.xml from a saved report.json')
    .argument('<report.json>', 'a report.json written by crosstalk run')
    .option('--html', 'write report.html')
    .option('--md', 'write summary.md (and append it to $GITHUB_STEP_SUMMARY when set)')
    .option('--junit', 'write junit.xml')
    .option('-o, --out <dir>', 'directory to write into (default: the report\'s own directory)')
    .option('-q, --quiet', 'do not list the files written')
    .action(async (path: string, flags: ReportFlags) => {
      process.exitCode = await reportCommand(path, flags)
    })
}

async function reportCommand (path: string, f: ReportFlags): Promise<number> {
  const result = await readJsonReport(path)
  const none = f.html !== true && f.md !== true && f.junit !== true
  // no format named: all three, as a run writes them
  const formats: ReportFormats = { html: none || f.html === true, md: none || f.md === true, junit: none || f.junit === true }
  const out = resolve(f.out ?? dirname(path))
  await checkOutDir(out)
  const written = await writeRenderedReports(out, result, formats)
  if (formats.md) await appendStepSummary(formatMarkdownSummary(result))
  if (f.quiet !== true) for (const file of Object.values(written)) process.stdout.write(`${file}\n`)
  return EXIT_PASSED
}
