// `--users-file`: one row of data per user (real accounts to log in), read and checked once on
// the main thread before any load. User `id` gets row `id % rows`: a pure function of the global
// id, so a row is the same user's whichever worker runs it, and no two users share one unless
// rows are reused on purpose.
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import { UsersFileError } from '../errors.js'

/** One user's row: strings from a CSV file, any JSON value from a JSON or NDJSON file. */
export type UserRow = Readonly<Record<string, unknown>>

export type UsersFileFormat = 'csv' | 'json' | 'ndjson'

export interface UsersFileSpec {
  /** absolute, or relative to the run's cwd (resolved by the options) */
  path: string
  /** fewer rows than users is allowed: user `id` gets row `id % rows` */
  reuse: boolean
}

export interface UsersFile {
  path: string
  format: UsersFileFormat
  rows: UserRow[]
}

const FORMATS: Record<string, UsersFileFormat> = { '.csv': 'csv', '.json': 'json', '.ndjson': 'ndjson', '.jsonl': 'ndjson' }

/** The rows of the file, or UsersFileError (unreadable, unknown format, parse error with its line, empty, too few rows for `users`). */
export async function readUsersFile (spec: UsersFileSpec, users: number): Promise<UsersFile> {
  const { path } = spec
  const format = FORMATS[extname(path).toLowerCase()]
  if (format === undefined) throw new UsersFileError(`users file ${path}: unknown format '${extname(path)}' (use .csv, .json, .ndjson or .jsonl)`)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new UsersFileError(`users file ${path} cannot be read: ${e.code === 'ENOENT' ? 'no such file' : e.code ?? e.message}`)
  }
  const rows = format === 'csv' ? csvRows(path, text) : format === 'json' ? jsonRows(path, text) : ndjsonRows(path, text)
  if (rows.length === 0) throw new UsersFileError(`users file ${path} has no rows`)
  if (rows.length < users && !spec.reuse) {
    throw new UsersFileError(`users file ${path} has ${rows.length} rows for up to ${users} users: add rows, or reuse them with --users-file-reuse (user id N gets row N % ${rows.length})`)
  }
  return { path, format, rows }
}

/** The row of the user with this global id (0-based). */
export function userRowOf (rows: readonly UserRow[], id: number): UserRow {
  return rows[id % rows.length]!
}

/** A header row of field names, then one row per user; quoted fields, empty lines skipped, fields trimmed. */
function csvRows (path: string, text: string): UserRow[] {
  try {
    return parseCsv<Record<string, string>>(text, { columns: true, skip_empty_lines: true, trim: true, bom: true })
  } catch (err) {
    const e = err as Error & { lines?: number }
    const named = /\bline \d+/.test(e.message) || e.lines === undefined ? '' : ` (line ${e.lines})`
    throw new UsersFileError(`users file ${path}: ${e.message}${named}`)
  }
}

/** A JSON array of objects. */
function jsonRows (path: string, text: string): UserRow[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsersFileError(`users file ${path}: line ${lineAt(text, jsonErrorOffset(text))}: ${jsonReason(err)}`)
  }
  if (!Array.isArray(value)) throw new UsersFileError(`users file ${path} must hold a JSON array of objects, one per user`)
  const bad = value.findIndex(v => !isPlainObject(v))
  if (bad !== -1) throw new UsersFileError(`users file ${path}: element ${bad} of the array is not an object`)
  return value as UserRow[]
}

/** One JSON object per line (blank lines skipped). */
function ndjsonRows (path: string, text: string): UserRow[] {
  const rows: UserRow[] = []
  for (const [i, line] of text.replace(/^\uFEFF/, '').split('\n').entries()) {
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (err) {
      throw new UsersFileError(`users file ${path}: line ${i + 1}: ${jsonReason(err)}`)
    }
    if (!isPlainObject(value)) throw new UsersFileError(`users file ${path}: line ${i + 1} is not a JSON object`)
    rows.push(value)
  }
  return rows
}

/** V8's reason without its excerpt of the text (it may hold a password) nor its position. */
function jsonReason (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return `not valid JSON (${message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '')})`
}

/**
 * Where JSON.parse gives up (Node 20's "Unexpected token" names no position): the shortest prefix
 * that fails other than by ending early holds the fault at its end. Only on the error path.
 */
function jsonErrorOffset (text: string): number {
  let lo = 1
  let hi = text.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (failsBefore(text.slice(0, mid))) hi = mid
    else lo = mid + 1
  }
  return lo - 1
}

function failsBefore (prefix: string): boolean {
  try {
    JSON.parse(prefix)
    return false
  } catch (err) {
    const m = (err as Error).message
    if (m.startsWith('Unexpected end of JSON input')) return false
    const at = / at position (\d+)/.exec(m)
    return at === null || Number(at[1]) < prefix.length
  }
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function lineAt (text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}
