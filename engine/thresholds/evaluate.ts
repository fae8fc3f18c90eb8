// Thresholds against metric totals. The input is an interface so the runner can feed it from
// its MetricsAggregator (thresholdInputFrom) and tests or reports from anything else.
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import type { ThresholdResult } from '../result/index.js'
import type { Threshold } from './compile.js'
import { compare } from './expression.js'

/** What thresholds read. Every method returns undefined for a key never recorded. */
export interface ThresholdInput {
  /** values in milliseconds */
  trend(key: string): { count: number, avg: number, min: number, med: number, max: number } | undefined
  /** percentile p (0 < p <= 100) in milliseconds (p(0) reads trend().min) */
  percentile(key: string, p: number): number | undefined
  counter(key: string): number | undefined
  rate(key: string): { passes: number, fails: number } | undefined
  gauge(key: string): { value: number, min: number, max: number } | undefined
  /** seconds of load so far (for counter rate) */
  loadSeconds: number
}


/** Outage gauges are only set when an outage happened: a run without one has nothing to recover from. */
const ZERO_WITHOUT_OUTAGE = new Set<string>([METRICS.outageDuration, METRICS.outageDetect, METRICS.outageRecovery])

/**
 * Reads a MetricsAggregator. Presence comes from agg.has() (its counter/rate answer 0 when absent).
 * A key with several tags (`http.req.duration{group:checkout,name:pay}`) reads the aggregator's
 * exact merge of the recorded tag combinations that hold them.
 */
export function thresholdInputFrom (agg: MetricsAggregator, loadSeconds: number): ThresholdInput {
  const has = (key: string): boolean => agg.has(key)
  return {
    trend: key => agg.trend(key),
    percentile: (key, p) => agg.percentile(key, p),
    counter: key => (has(key) ? agg.counter(key) : undefined),
    rate: key => (has(key) ? agg.rate(key) : undefined),
    gauge: key => agg.gauge(key) ?? (ZERO_WITHOUT_OUTAGE.has(key) ? { value: 0, min: 0, max: 0 } : undefined),
    loadSeconds
  }
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

/**
 * The value a threshold compares, or null without data. An absent counter counts 0 and an absent
 * rate is 0 (no samples); an absent trend or gauge is null, so a threshold on a misspelled
 * request name fails instead of passing silently.
 */
export function thresholdValue (t: Threshold, input: ThresholdInput): number | null {
  switch (t.kind) {
    case 'trend': {
      const s = input.trend(t.key)
      if (s === undefined || s.count === 0) return null
      switch (t.aggregation) {
        case 'avg': return round(s.avg, 3)
        case 'min': return round(s.min, 3)
        case 'med': return round(s.med, 3)
        case 'max': return round(s.max, 3)
        case 'p': {
          // p(0) is the smallest sample, as k6 reads it (an HDR percentile of 0 is a bucket edge)
          if (t.percentile === 0) return round(s.min, 3)
          const v = input.percentile(t.key, t.percentile ?? 100)
          return v === undefined ? null : round(v, 3)
        }
        default: return null
      }
    }
    case 'rate': {
      const r = input.rate(t.key)
      const total = r === undefined ? 0 : r.passes + r.fails
      return total === 0 ? 0 : round(r!.passes / total, 6)
    }
    case 'counter': {
      const count = input.counter(t.key) ?? 0
      if (t.aggregation === 'count') return count
      const per = input.loadSeconds > 0 ? input.loadSeconds : 1
      return round(count / per, 6)
    }
    case 'gauge': {
      const g = input.gauge(t.key)
      if (g === undefined) return null
      switch (t.aggregation) {
        case 'value': return g.value
        case 'min': return g.min
        case 'max': return g.max
        default: return null
      }
    }
  }
}

/** Whether the threshold's metric has any sample yet, whatever its kind (an absent counter or rate reads 0, yet is no data). */
export function hasSamples (t: Threshold, input: ThresholdInput): boolean {
  switch (t.kind) {
    case 'trend': return (input.trend(t.key)?.count ?? 0) > 0
    case 'rate': {
      const r = input.rate(t.key)
      return r !== undefined && r.passes + r.fails > 0
    }
    case 'counter': return input.counter(t.key) !== undefined
    case 'gauge': return input.gauge(t.key) !== undefined
  }
}

export function evaluateThreshold (t: Threshold, input: ThresholdInput): ThresholdResult {
  const value = thresholdValue(t, input)
  return {
    metric: t.key,
    expression: t.expression,
    value,
    passed: value !== null && compare(value, t.op, t.target),
    abortOnFail: t.abortOnFail,
    ...(t.default === true && { default: true as const })
  }
}

/** One result per threshold, in order. */
export function evaluateThresholds (thresholds: readonly Threshold[], input: ThresholdInput): ThresholdResult[] {
  return thresholds.map(t => evaluateThreshold(t, input))
}
