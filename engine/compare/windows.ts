// Per-second windows of a run's load phase: the unit every comparison statistic is computed on.
import { ConfigError } from '../errors.js'
import { METRICS } from '../metrics/index.js'
import type { RunResult } from '../result/index.js'

export interface LoadWindow {
  /** seconds since the run started (the time series' clock) */
  t: number
  /** latency percentiles of that second in ms; null when no request completed in it */
  p50: number | null
  p95: number | null
  p99: number | null
  /** requests that second */
  throughput: number
  /** failed / total requests that second (0 when there were none) */
  errorRate: number
}

export interface WindowOptions {
  /** whole seconds after the load phase starts that are left out (default 1) */
  warmupS?: number
  /** the trend the latency percentiles come from (default http.req.duration) */
  latencyMetric?: string
}

export const DEFAULT_WARMUP_S = 1
export const DEFAULT_LATENCY_METRIC: string = METRICS.httpReqDuration

export type WindowSource = Pick<RunResult, 'timeSeries' | 'loadWindow'>

/**
 * The seconds t fully inside the load phase after the warm-up:
 * t >= ceil(startS) + warmupS and t + 1 <= floor(endS). Seconds with no point in the series
 * (no data arrived) are skipped, not counted as zero throughput.
 */
export function extractWindows (result: WindowSource, options: WindowOptions = {}): LoadWindow[] {
  const warmupS = options.warmupS ?? DEFAULT_WARMUP_S
  const latencyMetric = options.latencyMetric ?? DEFAULT_LATENCY_METRIC
  if (!(Number.isFinite(warmupS) && warmupS >= 0)) throw new ConfigError(`warmupS must be a number of seconds >= 0, got ${warmupS}`)
  const { startS, endS } = result.loadWindow
  if (!Number.isFinite(startS) || !Number.isFinite(endS)) return []
  const first = Math.ceil(startS) + warmupS
  const end = Math.floor(endS)
  const out: LoadWindow[] = []
  for (const p of result.timeSeries) {
    if (p.t < first || p.t + 1 > end) continue
    const trend = p.trends[latencyMetric]
    const sampled = trend !== undefined && trend.count > 0
    const failed = p.rates[METRICS.httpReqFailed]
    const total = failed === undefined ? 0 : failed.passes + failed.fails
    out.push({
      t: p.t,
      p50: sampled ? trend.med : null,
      p95: sampled ? trend.p95 : null,
      p99: sampled ? trend.p99 : null,
      throughput: p.counters[METRICS.httpReqs] ?? 0,
      // http.req.failed counts failed requests as its "passes"
      errorRate: total === 0 ? 0 : failed!.passes / total
    })
  }
  return out.sort((a, b) => a.t - b.t)
}
