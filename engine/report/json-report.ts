import { join, resolve } from 'node:path'
import type { RunResult } from '../result/index.js'
import { writeFileAtomic } from '../shared/index.js'

export const JSON_REPORT_FILE = 'report.json'

/** Writes `<dir>/report.json` atomically; returns its path. */
export async function writeJsonReport (dir: string, result: RunResult): Promise<string> {
  const path = resolve(join(dir, JSON_REPORT_FILE))
  await writeFileAtomic(path, JSON.stringify(result, null, 2) + '\n')
  return path
}
