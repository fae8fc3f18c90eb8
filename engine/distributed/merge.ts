// Shard reports in, one run's report out (report.json and the rendered formats), checked against
// report.json's schema like any run's.
import { join, resolve } from 'node:path'
import { JSON_REPORT_FILE, selfCheckReport, writeReports, type ReportFormats } from '../report/index.js'
import type { RunResult } from '../result/index.js'
import { readShardReports } from './merge-input.js'
import { mergeShardReports } from './merge-report.js'

export interface MergeOptions {
  /** shards' report.json paths */
  reports: readonly string[]
  /** directory to write the merged report into (null: write nothing) */
  out: string | null
  formats: ReportFormats
}

export async function mergeShards (o: MergeOptions): Promise<{ result: RunResult, reportPath: string | undefined }> {
  const input = await readShardReports(o.reports.map(p => resolve(p)))
  const result = mergeShardReports(input)
  selfCheckReport(result)
  if (o.out === null) return { result, reportPath: undefined }
  await writeReports(o.out, result, o.formats)
  return { result, reportPath: resolve(join(o.out, JSON_REPORT_FILE)) }
}
