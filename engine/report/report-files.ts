// The files a run leaves in its report directory: report.json always, then report.html,
// summary.md and junit.xml unless turned off. `crosstalk report` renders the same three from a
// saved report.json.
import type { RunResult } from '../result/index.js'
import { writeHtmlReport } from './html-report.js'
import { writeJsonReport } from './json-report.js'
import { writeJunitReport } from './junit-report.js'
import { writeMarkdownSummary } from './markdown-summary.js'

/** Which rendered files to write beside report.json. */
export interface ReportFormats {
  html: boolean
  md: boolean
  junit: boolean
}

export const ALL_FORMATS: Readonly<ReportFormats> = Object.freeze({ html: true, md: true, junit: true })

/** Paths of the files written, by format. */
export interface WrittenReports {
  json?: string
  html?: string
  md?: string
  junit?: string
}

/** Writes the rendered formats of `result` into `dir` (not report.json); returns their paths. */
export async function writeRenderedReports (dir: string, result: RunResult, formats: ReportFormats): Promise<WrittenReports> {
  const written: WrittenReports = {}
  if (formats.html) written.html = await writeHtmlReport(dir, result)
  if (formats.md) written.md = await writeMarkdownSummary(dir, result)
  if (formats.junit) written.junit = await writeJunitReport(dir, result)
  return written
}

/** report.json and the rendered formats asked for. */
export async function writeReports (dir: string, result: RunResult, formats: ReportFormats = ALL_FORMATS): Promise<WrittenReports> {
  const json = await writeJsonReport(dir, result)
  return { json, ...await writeRenderedReports(dir, result, formats) }
}
