// One threshold expression, k6 syntax: `<aggregation> <op> <number>`, e.g. `p(95)<50`, `rate <= 0.01`.
// A tiny hand-written scanner, so errors can say exactly where the text stops making sense.
import { ThresholdSyntaxError } from '../errors.js'

export type ThresholdAggregation = 'avg' | 'min' | 'med' | 'max' | 'p' | 'rate' | 'count' | 'value'
export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!='

export interface ThresholdExpression {
  /** the source text, trimmed */
  expression: string
  aggregation: ThresholdAggregation
  /** N of `p(N)` (0 <= N <= 100; p(0) is the minimum, as k6), only when aggregation is 'p' */
  percentile?: number
  op: ThresholdOp
  target: number
}

const AGGREGATIONS: readonly string[] = ['avg', 'min', 'med', 'max', 'p', 'rate', 'count', 'value']
const AGGREGATION_LIST = 'avg, min, med, max, p(N), rate, count, value'
// Longest first, so `<=` is not read as `<` followed by `=`. k6 reads `===` as `==`.
const OPS: ReadonlyArray<ThresholdOp | '==='> = ['===', '<=', '>=', '==', '!=', '<', '>']
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y
const SPACE = /\s*/y

/** `p(95)`, `avg`: how an aggregation is written. */
export function aggregationLabel (e: Pick<ThresholdExpression, 'aggregation' | 'percentile'>): string {
  return e.aggregation === 'p' ? `p(${e.percentile ?? '?'})` : e.aggregation
}

/**
 * Parses `<aggregation> <op> <number>`. `on` (the metric key) only enriches error messages.
 * Throws ThresholdSyntaxError quoting the expression and the fragment where it went wrong.
 */
export function parseThresholdExpression (text: string, on?: string): ThresholdExpression {
  const src = text.trim()
  const suffix = on === undefined ? '' : ` (threshold on '${on}')`
  let i = 0

  // Explicitly typed so that calls narrow (`never` ends the control flow).
  const fail: (problem: string, at?: number) => never = (problem, at = i) => {
    const rest = src.slice(at)
    const where = rest === '' ? 'at the end' : `at '${rest}'`
    throw new ThresholdSyntaxError(`bad threshold expression '${src}' ${where}: ${problem}${suffix}`)
  }
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i
    const m = re.exec(src)
    if (m === null) return undefined
    i = re.lastIndex
    return m[0]
  }
  const skipSpace = (): void => { match(SPACE) }

  if (src === '') fail(`expected e.g. p(95)<50 (aggregations: ${AGGREGATION_LIST})`)

  const wordAt = i
  const word = match(WORD)
  if (word === undefined) fail(`expected an aggregation (${AGGREGATION_LIST})`)
  if (!AGGREGATIONS.includes(word)) {
    const lower = word.toLowerCase()
    const hint = /^p\d/.test(lower)
      ? `; did you mean 'p(${lower.slice(1)})'?`
      : AGGREGATIONS.includes(lower) ? `; did you mean '${lower === 'p' ? 'p(N)' : lower}'?` : ''
    fail(`unknown aggregation '${word}' (expected ${AGGREGATION_LIST})${hint}`, wordAt)
  }
  const aggregation = word as ThresholdAggregation
  let percentile: number | undefined

  skipSpace()
  if (aggregation === 'p') {
    if (src[i] !== '(') fail("expected '(' after 'p', as in p(95)")
    i++
    skipSpace()
    const at = i
    const n = match(NUMBER)
    if (n === undefined) fail('expected a percentile, as in p(95)')
    percentile = Number(n)
    if (!(percentile >= 0 && percentile <= 100)) fail('a percentile must be between 0 and 100', at)
    skipSpace()
    if (src[i] !== ')') fail("expected ')'")
    i++
    skipSpace()
  }

  const written = OPS.find(o => src.startsWith(o, i))
  if (written === undefined) {
    fail(src[i] === '=' ? "expected an operator (<, <=, >, >=, ==, !=); use '==' for equality" : 'expected an operator (<, <=, >, >=, ==, !=)')
  }
  i += written.length
  const op: ThresholdOp = written === '===' ? '==' : written
  skipSpace()

  const at = i
  const num = match(NUMBER)
  if (num === undefined) fail(`expected a number after '${op}'`)
  const target = Number(num)
  if (!Number.isFinite(target)) fail('the number is out of range', at)
  skipSpace()
  if (i < src.length) fail('unexpected text after the number')

  return percentile === undefined
    ? { expression: src, aggregation, op: op, target }
    : { expression: src, aggregation, percentile, op: op, target }
}

/** `value <op> target`. */
export function compare (value: number, op: ThresholdOp, target: number): boolean {
  switch (op) {
    case '<': return value < target
    case '<=': return value <= target
    case '>': return value > target
    case '>=': return value >= target
    case '==': return value === target
    case '!=': return value !== target
  }
}
