// Budgets: how much worse the candidate may be per metric before the change counts as a
// regression. `p95=+10%` (relative), `errorRate=+0.01` (absolute), `throughput=-5%` (a drop of up
// to 5% is fine), comma-separated; metrics not given keep their defaults.
import { BudgetSyntaxError } from '../errors.js'
import { COMPARED_METRICS, worseSign, type ComparedMetric } from './compared-metrics.js'

export interface Budget {
  metric: ComparedMetric
  /** relative: a share of the baseline statistic; absolute: in the metric's unit */
  kind: 'relative' | 'absolute'
  /** how far the change may go in the worse direction: >= 0, a fraction for relative budgets (0.1 = 10%) */
  amount: number
  /** as written, with the sign of the worse direction: '+10%', '-5%', '+0.01' */
  text: string
}

export type BudgetSet = Record<ComparedMetric, Budget>

function budget (metric: ComparedMetric, digits: string, relative: boolean): Budget {
  const sign = worseSign(metric) === 1 ? '+' : '-'
  return {
    metric,
    kind: relative ? 'relative' : 'absolute',
    amount: relative ? Number(digits) / 100 : Number(digits),
    text: `${sign}${digits}${relative ? '%' : ''}`
  }
}

export const DEFAULT_BUDGETS: Readonly<BudgetSet> = {
  p50: budget('p50', '10', true),
  p95: budget('p95', '10', true),
  p99: budget('p99', '25', true),
  throughput: budget('throughput', '10', true),
  errorRate: budget('errorRate', '0.01', false),
  heapSlope: budget('heapSlope', '32', false)
}

const BY_LOWER_NAME = new Map(COMPARED_METRICS.map(m => [m.toLowerCase(), m]))
const VALUE = /^([+-]?)(\d+(?:\.\d+)?|\.\d+)(%?)$/

function parsePart (part: string): Budget {
  const eq = part.indexOf('=')
  if (eq < 0) throw new BudgetSyntaxError(`budget '${part}' is not metric=change (e.g. p95=+10%, throughput=-5%, errorRate=+0.01)`)
  const name = part.slice(0, eq).trim()
  const value = part.slice(eq + 1).trim()
  const metric = BY_LOWER_NAME.get(name.toLowerCase())
  if (metric === undefined) throw new BudgetSyntaxError(`unknown metric '${name}' in budget '${part}' (known: ${COMPARED_METRICS.join(', ')})`)
  const m = VALUE.exec(value)
  if (m === null) throw new BudgetSyntaxError(`budget '${part}': '${value}' is not a change like +10% (relative) or +0.01 (absolute)`)
  const [, sign, digits, percent] = m as unknown as [string, string, string, string]
  const worse = worseSign(metric) === 1 ? '+' : '-'
  if (sign !== '' && sign !== worse) {
    const what = worse === '+' ? 'rise' : 'drop'
    throw new BudgetSyntaxError(`budget '${part}': a ${metric} budget is the ${what} that is still acceptable, write ${metric}=${worse}${digits}${percent}`)
  }
  return budget(metric, digits, percent === '%')
}

/**
 * Parses budget text (one string or several, each comma-separated) into the budgets given;
 * `resolveBudgets` fills in the defaults. Throws BudgetSyntaxError quoting the offending part.
 */
export function parseBudgets (text: string | readonly string[]): Partial<BudgetSet> {
  const texts = typeof text === 'string' ? [text] : text
  const out: Partial<BudgetSet> = {}
  for (const t of texts) {
    for (const raw of t.split(',')) {
      const part = raw.trim()
      if (part === '') throw new BudgetSyntaxError(`empty budget in '${t}' (e.g. p95=+10%,throughput=-5%)`)
      const b = parsePart(part)
      if (out[b.metric] !== undefined) throw new BudgetSyntaxError(`budget '${part}': ${b.metric} is given twice`)
      out[b.metric] = b
    }
  }
  return out
}

/** Budgets given (parsed or as text) over the defaults. */
export function resolveBudgets (given: Partial<BudgetSet> | string | readonly string[] = {}): BudgetSet {
  const parsed = typeof given === 'string' || Array.isArray(given) ? parseBudgets(given as string | readonly string[]) : given as Partial<BudgetSet>
  return { ...DEFAULT_BUDGETS, ...parsed }
}
