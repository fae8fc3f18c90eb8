// What a run option's value may be: checked the same way whether it comes from run(), a config
// file or a flag's text.
import { mergeThresholdFlags, type ThresholdDefinitions } from '../thresholds/index.js'
import { parseFixtureValue, type FixtureOptionSpec } from '../target/index.js'
import type { Problems } from './problems.js'

export interface Kind {
  /** what a value must be, for messages: 'a whole number' */
  expects: string
  /** a run() or config file value of this kind */
  accepts: (v: unknown) => boolean
  /** a flag's text (every occurrence of a repeatable flag) -> the value; undefined: it does not read */
  read: (texts: readonly string[]) => unknown
  /** flags that add to the value already there (a config file's) instead of replacing it */
  merge?: (texts: readonly string[], current: unknown, problems: Problems) => unknown
}

export function isPlainObject (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

const last = (texts: readonly string[]): string => texts.at(-1) ?? ''
const asText = (texts: readonly string[]): string => last(texts)
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

export const whole: Kind = {
  expects: 'a whole number',
  accepts: v => Number.isInteger(v) && (v as number) >= 0,
  read: texts => /^\d+$/.test(last(texts).trim()) ? Number(last(texts)) : undefined
}

export const decimal: Kind = {
  expects: 'a number',
  accepts: finite,
  read: texts => last(texts).trim() !== '' && Number.isFinite(Number(last(texts))) ? Number(last(texts)) : undefined
}

/** parsed by the resolver (parseDuration), so a bad one is CT_ERR_DURATION when it is the only problem */
export const duration: Kind = {
  expects: "a duration such as '10s' or a number of milliseconds",
  accepts: v => typeof v === 'string' || finite(v),
  read: asText
}

export const text: Kind = { expects: 'a string', accepts: v => typeof v === 'string', read: asText }

/** a switch: given is true */
export const boolean: Kind = { expects: 'true or false', accepts: v => typeof v === 'boolean', read: () => true }

export function oneOf (choices: readonly string[]): Kind {
  return { expects: `one of ${choices.join(', ')}`, accepts: v => choices.includes(v as string), read: texts => choices.includes(last(texts)) ? last(texts) : undefined }
}

export const stages: Kind = {
  expects: "'10s:100,20s:1000' or a list of { duration, target }",
  accepts: v => typeof v === 'string' || Array.isArray(v),
  read: asText
}

/** a URL or `cmd:<command>`, or (run() and config files) a command target's object; its form is checked by the resolver */
export const target: Kind = { expects: "a URL, 'cmd:<command>' or { command, env, cwd, ready, port }", accepts: v => typeof v === 'string' || isPlainObject(v), read: asText }

export const scenario: Kind = { expects: 'a scenario name, file path or file URL', accepts: v => typeof v === 'string' || v instanceof URL, read: asText }

export const directory: Kind = { expects: 'a directory (or null: write nothing)', accepts: v => v === null || typeof v === 'string', read: asText }

export const object: Kind = { expects: 'an object', accepts: isPlainObject, read: () => undefined }

/** `true`, or an object of settings (which turns it on too) */
export const switchOrObject: Kind = { expects: 'true, false or an object', accepts: v => typeof v === 'boolean' || isPlainObject(v), read: () => true }

/** `true` (a default place) or a path */
export const switchOrPath: Kind = { expects: 'true, false or a path', accepts: v => typeof v === 'boolean' || typeof v === 'string', read: () => true }

/** a path, or an object of settings with one (`usersFile: { path, reuse }`) */
/** `--shard 1/3`, or `{ index: 1, count: 3 }` in a config file or run() */
export const shard: Kind = { expects: "'index/count' such as '0/3', or { index, count }", accepts: v => typeof v === 'string' || isPlainObject(v), read: asText }

export const pathOrObject: Kind = { expects: 'a path or an object', accepts: v => typeof v === 'string' || isPlainObject(v), read: asText }

export const fn: Kind = { expects: 'a function', accepts: v => typeof v === 'function', read: () => undefined }

export const abortSignal: Kind = { expects: 'an AbortSignal', accepts: v => v instanceof AbortSignal, read: () => undefined }

/** `--threshold 'metric: expression'` flags add to the config file's thresholds */
export const thresholds: Kind = {
  expects: "an object like { 'http.req.duration': ['p(95)<50'] }",
  accepts: isPlainObject,
  read: () => undefined,
  merge: (texts, current, problems) => {
    let defs = current as ThresholdDefinitions | undefined
    for (const t of texts) defs = problems.catch(() => mergeThresholdFlags(defs, [t])) ?? defs
    return defs
  }
}

/** a fixture option: read by the fixture's own parser, so every way of giving it reads alike */
export function fixtureKind (spec: FixtureOptionSpec): Kind {
  const read = (texts: readonly string[]): unknown => {
    const problems: string[] = []
    const value = parseFixtureValue(spec, texts, spec.flag, problems)
    return problems.length > 0 ? undefined : value
  }
  switch (spec.kind) {
    case 'number': return { expects: 'a number', accepts: finite, read }
    case 'list': return { expects: 'a list of names', accepts: v => Array.isArray(v) && v.every(x => typeof x === 'string'), read }
    case 'enum':
    case 'string': return { expects: 'a string', accepts: v => typeof v === 'string', read }
  }
}
