// Flag values (as commander hands them over: text, repeated text, or true for a switch) -> run()
// options, over the config file's. Each flag is read by its row's kind; problems are collected.
import { isPlainObject } from './kinds.js'
import { flagText, isNegation, RUN_OPTION_TABLE, type RunOptionRow } from './option-table.js'
import type { Problems } from './problems.js'
import type { RunOptions } from './run-options.js'

export type FlagValue = string | readonly string[] | boolean
/** flag values by the row they belong to (only flags given) */
export type FlagValues = ReadonlyMap<RunOptionRow, FlagValue>

/** `base` (a config file's options) with the flags of `rows` applied over it; flags win, nested settings merge. */
export function runOptionsFromFlags (values: FlagValues, base: RunOptions, problems: Problems, rows: readonly RunOptionRow[] = RUN_OPTION_TABLE): RunOptions {
  const o = structuredCloneData(base)
  for (const row of rows) {
    const given = values.get(row)
    if (given === undefined || row.cliOnly === true) continue
    // `--no-html` turns its option off; any other switch is off by not being given
    if (given === false) {
      if (row.flag !== undefined && isNegation(row.flag)) setAt(o, row.key, false)
      continue
    }
    const texts = typeof given === 'string' ? [given] : given === true ? [] : given
    const current = getAt(o, row.key)
    const value = row.kind.merge !== undefined ? row.kind.merge(texts, current, problems) : row.kind.read(texts)
    if (value === undefined) {
      problems.add(`--${row.flag!.long} expects ${row.kind.expects}, got '${texts.at(-1)}'`)
      continue
    }
    // `--leaks` keeps the config file's leak settings: true only turns them on
    if (value === true && isPlainObject(current)) continue
    setAt(o, row.key, value)
  }
  for (const row of rows) {
    if (row.cliDefault !== undefined && getAt(o, row.key) === undefined) setAt(o, row.key, row.cliDefault)
  }
  const fixtureFlags = [...values.keys()].filter(r => r.key.startsWith('fixture.'))
  if (o.target !== undefined && fixtureFlags.length > 0) {
    problems.add(`${fixtureFlags.map(r => flagText(r.flag!)).join(', ')}: --fixture-* flags configure the embedded fixture and cannot be combined with --target`)
  }
  return o
}

/** A copy deep enough that setting nested keys leaves `base` alone (plain objects copied, the rest shared). */
function structuredCloneData<T> (base: T): T {
  if (!isPlainObject(base)) return base
  return Object.fromEntries(Object.entries(base).map(([k, v]) => [k, structuredCloneData(v)])) as T
}

function getAt (o: object, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => isPlainObject(v) ? v[k] : undefined, o)
}

/**
 * Sets a dotted key; a parent that is not an object yet (`leaks: true`, missing) becomes one, and
 * a parent in its short form, a path (`usersFile: 'users.csv'` and `--users-file-reuse`), { path }.
 */
function setAt (o: object, key: string, value: unknown): void {
  const parts = key.split('.')
  let at = o as Record<string, unknown>
  for (const k of parts.slice(0, -1)) {
    if (!isPlainObject(at[k])) at[k] = typeof at[k] === 'string' ? { path: at[k] } : {}
    at = at[k] as Record<string, unknown>
  }
  at[parts.at(-1)!] = value
}
