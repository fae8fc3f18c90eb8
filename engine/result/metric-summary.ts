// What a run reports per metric: totals by kind, and one point per second of the time series.

export interface TrendSummary {
  type: 'trend'
  count: number
  /** all values in milliseconds */
  avg: number
  min: number
  med: number
  max: number
  p90: number
  p95: number
  p99: number
}

export interface CounterSummary { type: 'counter', count: number, /** per second over the load phase */ rate: number }
export interface RateSummary { type: 'rate', rate: number, passes: number, fails: number }
export interface GaugeSummary { type: 'gauge', value: number, min: number, max: number }
export type MetricSummary = CounterSummary | RateSummary | GaugeSummary | TrendSummary

export interface SeriesPoint {
  /** seconds since the run started */
  t: number
  counters: Record<string, number>
  rates: Record<string, { passes: number, fails: number }>
  trends: Record<string, { count: number, med: number, p95: number, p99: number, max: number }>
  /** the last value set during the second */
  gauges: Record<string, number>
}

/**
 * Request names (the `name` tag of http.* and ws.reply.duration): at most `cap` distinct ones are
 * kept run-wide; the rest are recorded under `(other)`.
 */
export interface RequestNamesReport {
  cap: number
  /** distinct names kept */
  kept: number
  /** names folded into `(other)`: distinct names (counted per thread, so an upper bound), requests, one example */
  folded?: { names: number, requests: number, example: string }
  /** other tags (`tags`, groups) whose values beyond the same cap were folded into `(other)`: distinct values (an upper bound) and one of them */
  foldedTags?: Record<string, { values: number, example: string }>
}
