// Checks an object of run options (given to run(), or read from a config file) against the
// table: unknown keys (with a "did you mean"), values of the wrong kind, values out of range.
import { closestName } from '../shared/index.js'
import { isPlainObject } from './kinds.js'
import { RUN_OPTION_TABLE, runOptionRow, type RunOptionRow } from './option-table.js'
import type { Problems } from './problems.js'

export interface CheckContext {
  /** put before each problem: '' for run(), 'crosstalk.config.json: ' for a file */
  where: string
  /** a config file holds plain data only */
  configFile: boolean
}

/** A copy of `input` without the keys and values that have a problem (each is recorded). */
export function checkOptionValues (input: Record<string, unknown>, ctx: CheckContext, problems: Problems, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input)) {
    const key = prefix === '' ? k : `${prefix}.${k}`
    const row = runOptionRow(key)
    if (row === undefined || row.cliOnly === true || (ctx.configFile && row.codeOnly === true)) {
      problems.add(`${ctx.where}unknown option '${key}'${didYouMean(k, prefix, ctx)}`)
      continue
    }
    if (v === undefined) continue
    const problem = !row.kind.accepts(v) ? `must be ${row.kind.expects}` : row.check?.(v)
    if (problem !== undefined) {
      problems.add(`${ctx.where}${key} ${problem} (got ${show(v)})`)
      continue
    }
    out[k] = isPlainObject(v) && hasChildren(row) ? checkOptionValues(v, ctx, problems, key) : v
  }
  return out
}

function hasChildren (row: RunOptionRow): boolean {
  return RUN_OPTION_TABLE.some(r => r.key.startsWith(`${row.key}.`))
}

function didYouMean (name: string, prefix: string, ctx: CheckContext): string {
  const siblings = RUN_OPTION_TABLE
    .filter(r => r.cliOnly !== true && !(ctx.configFile && r.codeOnly === true))
    .map(r => r.key)
    .filter(key => prefix === '' ? !key.includes('.') : key.startsWith(`${prefix}.`) && !key.slice(prefix.length + 1).includes('.'))
    .map(key => prefix === '' ? key : key.slice(prefix.length + 1))
  const guess = closestName(name, siblings)
  return guess === undefined ? '' : ` (did you mean '${prefix === '' ? guess : `${prefix}.${guess}`}'?)`
}

export function show (v: unknown): string {
  if (typeof v === 'string') return `'${v}'`
  if (typeof v === 'function') return 'a function'
  try {
    const s = JSON.stringify(v) ?? String(v)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return String(v)
  }
}
