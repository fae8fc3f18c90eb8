// The text of one metric row, shared by the terminal table and the Markdown report.
import type { ComparisonResult, MetricComparison } from './compare-rounds.js'
import { formatChange, formatConfidence, formatInterval, formatRelative, formatValue } from './format.js'
import type { MetricVerdict, OverallVerdict } from './verdict.js'

export interface MetricCells {
  metric: string
  baseline: string
  candidate: string
  /** absolute change (relative change); '*' when the interval excludes 0 */
  change: string
  /** the interval in the budget's terms: relative for a % budget, absolute otherwise */
  interval: string
  budget: string
  verdict: string
}

export const VERDICT_MARKS: Readonly<Record<MetricVerdict, string>> = {
  within: '✓ within',
  regressed: '✗ regressed',
  inconclusive: '? inconclusive'
}

export const OVERALL_MARKS: Readonly<Record<OverallVerdict, string>> = {
  pass: '✓ PASS',
  fail: '✗ FAIL',
  inconclusive: '? INCONCLUSIVE'
}

/** A relative budget as written ('+10%'); an absolute one in the unit of the change ('+1.00pp', '+32 B/op'). */
export function budgetCell (m: Pick<MetricComparison, 'budget' | 'budgetKind' | 'unit'>): string {
  const amount = Number(m.budget)
  return m.budgetKind === 'relative' || !Number.isFinite(amount) ? m.budget : formatChange(m.unit, amount)
}

export function metricCells (m: MetricComparison): MetricCells {
  const abs = formatChange(m.unit, m.diff)
  const change = m.diff === null ? 'n/a' : m.relative === null ? abs : `${abs} (${formatRelative(m.relative)})`
  const relative = m.budgetKind === 'relative' && m.relativeCI !== null
  return {
    metric: m.metric,
    baseline: formatValue(m.unit, m.baseline),
    candidate: formatValue(m.unit, m.candidate),
    change: m.significant ? `${change} *` : change,
    interval: relative ? formatInterval(m.relativeCI, formatRelative) : formatInterval(m.diffCI, v => formatChange(m.unit, v)),
    budget: budgetCell(m),
    verdict: VERDICT_MARKS[m.verdict]
  }
}

/** One sentence on how the numbers were obtained. */
export function methodLine (r: ComparisonResult): string {
  const m = r.method
  const rounds = `${m.rounds} interleaved round${m.rounds === 1 ? '' : 's'} (a baseline run and a candidate run adjacent in time)`
  const windows = `${r.windows.baseline} baseline and ${r.windows.candidate} candidate per-second windows of the load phase after a ${m.warmupS}s warm-up`
  const statistic = 'statistic: median of each run\'s windows (mean for the error rate; heap slope: one slope per run)'
  const change = 'change: mean of the per-round differences, relative change from the geometric mean of the per-round candidate/baseline ratios'
  const bootstrap = `bootstrap paired by round (rounds resampled; one round: its windows), ${m.resamples} resamples, ${formatConfidence(m.confidence)} percentile intervals widened for few rounds, seed ${m.seed}`
  const heap = m.heapSlopeInterval === 'paired-t'
    ? `; heap slope interval: Student's t on the per-round differences (paired-t, rounds - 1 degrees of freedom; one round is too few)`
    : ''
  return `${rounds}; ${windows}; ${statistic}; ${change}; ${bootstrap}${heap}; latency from ${m.latencyMetric}.`
}
