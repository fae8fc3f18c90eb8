// The metrics a comparison reports on, their units, and which direction is worse.

export type ComparedMetric = 'p50' | 'p95' | 'p99' | 'throughput' | 'errorRate' | 'heapSlope'
/** the metrics measured on per-second windows (heapSlope is one value per run) */
export type WindowMetric = Exclude<ComparedMetric, 'heapSlope'>
export type ComparedUnit = 'ms' | 'req/s' | 'share' | 'bytes/op'
/** how one side's values are summarized before the difference is taken */
export type Statistic = 'median' | 'mean'

export interface ComparedMetricDefinition {
  metric: ComparedMetric
  unit: ComparedUnit
  better: 'lower' | 'higher'
  statistic: Statistic
  /** what the statistic is taken over, for the method line of reports */
  over: string
}

export const COMPARED_METRICS: readonly ComparedMetric[] = ['p50', 'p95', 'p99', 'throughput', 'errorRate', 'heapSlope']
export const WINDOW_METRICS: readonly WindowMetric[] = ['p50', 'p95', 'p99', 'throughput', 'errorRate']

export const COMPARED_METRIC_DEFINITIONS: Readonly<Record<ComparedMetric, ComparedMetricDefinition>> = {
  p50: { metric: 'p50', unit: 'ms', better: 'lower', statistic: 'median', over: 'per-second median latencies' },
  p95: { metric: 'p95', unit: 'ms', better: 'lower', statistic: 'median', over: 'per-second p95 latencies' },
  p99: { metric: 'p99', unit: 'ms', better: 'lower', statistic: 'median', over: 'per-second p99 latencies' },
  throughput: { metric: 'throughput', unit: 'req/s', better: 'higher', statistic: 'median', over: 'per-second request counts' },
  // A mean, not a median: errors are often bursty, and a median of per-second error rates stays
  // at 0 while errors hit fewer than half of the seconds, which would hide a real regression.
  errorRate: { metric: 'errorRate', unit: 'share', better: 'lower', statistic: 'mean', over: 'per-second error rates' },
  heapSlope: { metric: 'heapSlope', unit: 'bytes/op', better: 'lower', statistic: 'mean', over: 'heap slopes, one per run' }
}

/** +1 when a rise is worse (latency, errors, heap), -1 when a drop is worse (throughput). */
export function worseSign (metric: ComparedMetric): 1 | -1 {
  return COMPARED_METRIC_DEFINITIONS[metric].better === 'lower' ? 1 : -1
}
