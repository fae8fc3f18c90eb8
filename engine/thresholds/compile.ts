// Threshold definitions as written in a config file or `run()` options (k6 shape), checked
// once and compiled to a flat list: one Threshold per expression, in the order written.
import { ThresholdMetricError, ThresholdSyntaxError } from '../errors.js'
import type { CustomMetricDefinitions, MetricKind } from '../metrics/index.js'
import { parseDuration } from '../shared/index.js'
import { aggregationLabel, parseThresholdExpression, type ThresholdAggregation, type ThresholdOp } from './expression.js'
import { parseThresholdKey } from './key.js'

export interface ThresholdObject {
  threshold: string
  /** stop the run as soon as this threshold fails (after `delayAbortEval`) */
  abortOnFail?: boolean
  /** do not abort before this much load time: '10s', '1m30s' or milliseconds */
  delayAbortEval?: string | number
}

/** `{ 'http.req.duration{name:get item}': ['p(95)<50', { threshold: 'max<1000', abortOnFail: true }] }` */
export type ThresholdDefinitions = Record<string, string | Array<string | ThresholdObject>>

export interface Threshold {
  /** normalized metric key (`http.req.duration{name:get item}`) */
  key: string
  /** a built-in metric, or a custom one the scenario declared */
  metric: string
  tag?: { name: string, value: string }
  kind: MetricKind
  /** the source text, trimmed */
  expression: string
  aggregation: ThresholdAggregation
  /** N of `p(N)` */
  percentile?: number
  op: ThresholdOp
  target: number
  abortOnFail: boolean
  /** 0 unless `delayAbortEval` was given */
  delayAbortEvalMs: number
  /** crosstalk's default budget, not the user's (see default-budget.ts) */
  default?: true
}

/** Which aggregations each metric kind has. Counter `rate` is the count per second of load. */
export const THRESHOLD_AGGREGATIONS: Readonly<Record<MetricKind, readonly ThresholdAggregation[]>> = {
  trend: ['avg', 'min', 'med', 'max', 'p'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: ['value', 'min', 'max']
}

const OBJECT_FIELDS = ['threshold', 'abortOnFail', 'delayAbortEval']

function describe (v: unknown): string {
  let s: string
  try {
    s = typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v))
  } catch {
    s = String(v)
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/** Throws ThresholdSyntaxError unless `defs` is a plain object of key -> expressions. */
export function assertThresholdDefinitions (defs: unknown): asserts defs is ThresholdDefinitions {
  if (!isPlainObject(defs)) {
    throw new ThresholdSyntaxError(`thresholds must be an object like { 'http.req.duration': ['p(95)<50'] }, got ${describe(defs)}`)
  }
}

/**
 * Checks and compiles threshold definitions (runtime shapes included: they may come from a
 * JSON config). Throws ThresholdSyntaxError / ThresholdMetricError on the first problem.
 * `custom`: the scenario's declared metrics, which keys may name besides the built-in ones.
 */
export function compileThresholds (defs: ThresholdDefinitions | undefined, custom?: CustomMetricDefinitions): Threshold[] {
  if (defs === undefined) return []
  assertThresholdDefinitions(defs)
  const out: Threshold[] = []
  for (const [rawKey, value] of Object.entries(defs as Record<string, unknown>)) {
    const items: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
    if (typeof value !== 'string' && !Array.isArray(value)) {
      throw new ThresholdSyntaxError(`threshold '${rawKey}' must be an expression or a list of expressions, got ${describe(value)}`)
    }
    if (items.length === 0) throw new ThresholdSyntaxError(`threshold '${rawKey}' has an empty list of expressions`)
    const specs = items.map((item, i) => thresholdSpec(rawKey, item, i))
    const key = parseThresholdKey(rawKey, `${rawKey.trim()}: ${specs[0]!.threshold.trim()}`, custom)
    for (const spec of specs) {
      const e = parseThresholdExpression(spec.threshold, key.key)
      const allowed = THRESHOLD_AGGREGATIONS[key.kind]
      if (!allowed.includes(e.aggregation)) {
        const list = allowed.map(a => (a === 'p' ? 'p(N)' : a)).join(', ')
        throw new ThresholdMetricError(`aggregation '${aggregationLabel(e)}' does not apply to metric '${key.metric}' (a ${key.kind}) in threshold '${key.key}: ${e.expression}': use ${list}`)
      }
      const t: Threshold = {
        key: key.key,
        metric: key.metric,
        kind: key.kind,
        expression: e.expression,
        aggregation: e.aggregation,
        op: e.op,
        target: e.target,
        abortOnFail: spec.abortOnFail ?? false,
        delayAbortEvalMs: delayMs(spec, key.key)
      }
      if (key.tag !== undefined) t.tag = key.tag
      if (e.percentile !== undefined) t.percentile = e.percentile
      out.push(t)
    }
  }
  return out
}

function thresholdSpec (key: string, item: unknown, index: number): ThresholdObject {
  if (typeof item === 'string') return { threshold: item }
  const where = `threshold '${key}' item ${index + 1}`
  if (!isPlainObject(item)) {
    throw new ThresholdSyntaxError(`${where} must be an expression or { threshold, abortOnFail?, delayAbortEval? }, got ${describe(item)}`)
  }
  if (typeof item.threshold !== 'string') {
    throw new ThresholdSyntaxError(`${where} ${describe(item)} needs a string 'threshold' field (the expression)`)
  }
  const unknown = Object.keys(item).filter(f => !OBJECT_FIELDS.includes(f))
  if (unknown.length > 0) {
    throw new ThresholdSyntaxError(`${where} ${describe(item)} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map(f => `'${f}'`).join(', ')} (allowed: ${OBJECT_FIELDS.join(', ')})`)
  }
  if (item.abortOnFail !== undefined && typeof item.abortOnFail !== 'boolean') {
    throw new ThresholdSyntaxError(`${where} ${describe(item)}: 'abortOnFail' must be true or false`)
  }
  const d = item.delayAbortEval
  if (d !== undefined && typeof d !== 'string' && typeof d !== 'number') {
    throw new ThresholdSyntaxError(`${where} ${describe(item)}: 'delayAbortEval' must be a duration such as '10s' or a number of milliseconds`)
  }
  return item as unknown as ThresholdObject
}

function delayMs (spec: ThresholdObject, key: string): number {
  const d = spec.delayAbortEval
  if (d === undefined || d === 0 || d === '0') return 0
  try {
    return parseDuration(d, `delayAbortEval of threshold '${key}: ${spec.threshold.trim()}':`)
  } catch (err) {
    throw new ThresholdSyntaxError(err instanceof Error ? err.message : String(err), { cause: err })
  }
}

export interface ThresholdFlag {
  key: string
  expression: string
}

/**
 * `--threshold 'http.req.duration{name:get item}: p(95)<50'` -> { key, expression }. The separator
 * is the first ':' outside `{...}`. Throws ThresholdSyntaxError quoting the text.
 */
export function parseThresholdFlag (text: string): ThresholdFlag {
  let depth = 0
  let sep = -1
  for (let i = 0; i < text.length && sep === -1; i++) {
    const c = text[i]
    if (c === '{') depth++
    else if (c === '}') depth = Math.max(0, depth - 1)
    else if (c === ':' && depth === 0) sep = i
  }
  const usage = "(use --threshold '<metric>: <expression>', e.g. 'http.req.duration: p(95)<50')"
  if (sep === -1) throw new ThresholdSyntaxError(`bad threshold '${text}': expected ':' between the metric and the expression ${usage}`)
  const key = text.slice(0, sep).trim()
  const expression = text.slice(sep + 1).trim()
  if (key === '') throw new ThresholdSyntaxError(`bad threshold '${text}': the metric before ':' is empty ${usage}`)
  if (expression === '') throw new ThresholdSyntaxError(`bad threshold '${text}': the expression after ':' is empty ${usage}`)
  return { key, expression }
}

/**
 * Adds `--threshold` flags to definitions (new object; the input is not modified). A flag adds
 * its expression to the list of the same key, or starts a new key.
 */
export function mergeThresholdFlags (defs: ThresholdDefinitions | undefined, flags: readonly string[]): ThresholdDefinitions {
  if (defs !== undefined) assertThresholdDefinitions(defs)
  const out: ThresholdDefinitions = {}
  for (const [k, v] of Object.entries(defs ?? {})) out[k] = Array.isArray(v) ? [...v] : v
  for (const text of flags) {
    const { key, expression } = parseThresholdFlag(text)
    const current = out[key]
    out[key] = current === undefined ? [expression] : [...(Array.isArray(current) ? current : [current]), expression]
  }
  return out
}
