// The shards' metrics merged as one process would have aggregated them: each shard's seconds
// replayed, in time order, into one MetricsAggregator (counters and rates add, trends merge their
// HDR histograms, gauges sum each shard's latest value), so totals, per-second series, percentiles
// and thresholds come from the same code as a single run's. Each plan entry gets an aggregator of
// its own from the shards' entry totals.
import { MergeError } from '../errors.js'
import { METRICS, MetricsAggregator, type CustomMetricDefinition, type MetricsDelta } from '../metrics/index.js'
import type { ShardInput } from './merge-input.js'

export interface MergedMetrics {
  agg: MetricsAggregator
  /** plan entries by name (empty: one scenario) */
  scenarios: Map<string, MetricsAggregator>
}

/** Counters that are noted once the load is over (outages), not in the series: recounted by the merge. */
const NOTED_COUNTERS = new Set<string>([METRICS.outages])

export function mergeMetrics (shards: readonly ShardInput[]): MergedMetrics {
  const cap = Math.max(...shards.map(s => s.result.requestNames.cap))
  const custom = customDefinitions(shards)
  const agg = new MetricsAggregator(0, cap)
  for (const [name, d] of custom) agg.define(name, d)
  const customGauges = new Set([...custom].filter(([, d]) => d.kind === 'gauge').map(([name]) => name))
  // every shard's seconds on the merged clock, oldest first (a shard's own order kept within a second)
  const seconds = shards.flatMap(s => {
    const histograms = new Map(s.result.shard.histograms.seconds.map(h => [h.t, h.trends]))
    return s.result.timeSeries.map(point => ({ shard: s, point, trends: histograms.get(point.t) ?? {}, t: point.t + s.shiftS }))
  }).sort((a, b) => a.t - b.t || a.shard.result.shard.index - b.shard.result.shard.index)
  for (const { shard, point, trends, t } of seconds) {
    if (Object.keys(point.trends).some(k => trends[k] === undefined)) {
      throw new MergeError(`${shard.path}: second ${point.t} has trends without their histograms (the report was not written by a shard of this crosstalk)`)
    }
    const delta: MetricsDelta = {
      counters: point.counters,
      rates: Object.fromEntries(Object.entries(point.rates).map(([k, r]) => [k, [r.passes, r.fails]])),
      trends,
      gauges: {},
      customGauges: {}
    }
    for (const [k, v] of Object.entries(point.gauges)) {
      if (customGauges.has(metricOf(k))) delta.customGauges![k] = [v, v, v]
      else delta.gauges[k] = v
    }
    agg.add(delta, `shard-${shard.result.shard.index}`, (t + 0.5) * 1000)
  }
  agg.series()
  checkCounterTotals(shards, agg)
  return { agg, scenarios: scenarioAggregators(shards, cap, custom) }
}

const metricOf = (key: string): string => { const i = key.indexOf('{'); return i === -1 ? key : key.slice(0, i) }

function customDefinitions (shards: readonly ShardInput[]): Map<string, CustomMetricDefinition> {
  const out = new Map<string, CustomMetricDefinition>()
  for (const s of shards) for (const [name, d] of Object.entries(s.result.customMetrics ?? {})) if (!out.has(name)) out.set(name, d)
  return out
}

/** A shard's series must add up to its own totals: anything else is a report that was edited or cut. */
function checkCounterTotals (shards: readonly ShardInput[], agg: MetricsAggregator): void {
  const expected = new Map<string, number>()
  for (const s of shards) {
    for (const [key, m] of Object.entries(s.result.metrics)) {
      // a tagged key may fold again run-wide (the request-name cap): untagged totals are exact
      if (m.type === 'counter' && !NOTED_COUNTERS.has(key) && !key.includes('{')) expected.set(key, (expected.get(key) ?? 0) + m.count)
    }
  }
  for (const [key, n] of expected) {
    const merged = agg.counter(key)
    if (merged !== n) throw new MergeError(`the shards' series give ${key} = ${merged}, their totals ${n}: a report is incomplete or was edited`)
  }
}

/** Each plan entry's aggregator, fed every shard's entry totals (counters, rates, trend histograms). */
function scenarioAggregators (shards: readonly ShardInput[], cap: number, custom: ReadonlyMap<string, CustomMetricDefinition>): Map<string, MetricsAggregator> {
  const out = new Map<string, MetricsAggregator>()
  for (const s of shards) {
    for (const [name, report] of Object.entries(s.result.scenarios ?? {})) {
      let agg = out.get(name)
      if (agg === undefined) {
        agg = new MetricsAggregator(0, cap)
        for (const [n, d] of custom) agg.define(n, d)
        out.set(name, agg)
      }
      const delta: MetricsDelta = { counters: {}, rates: {}, trends: s.result.shard.histograms.scenarios?.[name] ?? {}, gauges: {} }
      for (const [key, m] of Object.entries(report.metrics)) {
        if (m.type === 'counter') delta.counters[key] = m.count
        else if (m.type === 'rate') delta.rates[key] = [m.passes, m.fails]
        else if (m.type === 'gauge' && key === METRICS.usersActive) delta.gauges[key] = m.max
      }
      agg.add(delta, `shard-${s.result.shard.index}`, 0)
    }
  }
  return out
}
