import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError } from '../errors.js'
import { checkSchemaVersion, type RunResult } from '../result/index.js'
import { writeFileAtomic } from '../shared/index.js'

export const JSON_REPORT_FILE = 'report.json'

/** Writes `<dir>/report.json` atomically; returns its path. */
export async function writeJsonReport (dir: string, result: RunResult): Promise<string> {
  const path = resolve(join(dir, JSON_REPORT_FILE))
  await writeFileAtomic(path, JSON.stringify(result, null, 2) + '\n')
  return path
}

/**
 * What `crosstalk run --json` prints: report.json's object without its per-second series (which
 * can run to megabytes; it stays in report.json). Everything else is as in report.json.
 */
export function resultSummary (result: RunResult): Omit<RunResult, 'timeSeries'> {
  const summary: Partial<RunResult> = { ...result }
  delete summary.timeSeries
  return summary as Omit<RunResult, 'timeSeries'>
}

/** A saved report.json, checked enough to render: its schema version, status and series. */
export async function readJsonReport (path: string): Promise<RunResult> {
  let r: Partial<RunResult> | null
  try {
    r = JSON.parse(await readFile(path, 'utf8')) as Partial<RunResult> | null
  } catch (err) {
    throw new ConfigError(`cannot read report ${path}: ${(err as Error).message}`)
  }
  if (r === null || typeof r !== 'object' || typeof r.status !== 'string' || !Array.isArray(r.timeSeries) || typeof r.metrics !== 'object') {
    throw new ConfigError(`${path} is not a crosstalk report.json (no status, metrics and timeSeries)`)
  }
  checkSchemaVersion(path, r.schemaVersion)
  return r as RunResult
}
