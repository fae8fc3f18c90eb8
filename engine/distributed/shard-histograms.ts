// What a shard keeps for `crosstalk merge`: each second's trend histograms as the aggregator
// closes it, encoded once, and at the end the run totals (and each plan entry's). Percentiles
// of several shards can only be merged from histograms, never from their summaries.
import { encodeHistogram, type Histogram, type MetricsAggregator } from '../metrics/index.js'
import type { ShardReport } from '../result/index.js'

function encodeAll (histograms: ReadonlyMap<string, Histogram>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, h] of histograms) if (h.totalCount > 0) out[key] = encodeHistogram(h)
  return out
}

export class ShardHistograms {
  readonly #seconds: ShardReport['histograms']['seconds'] = []
  readonly #agg: MetricsAggregator

  constructor (agg: MetricsAggregator) {
    this.#agg = agg
    agg.onSecondClosed((point, histograms) => {
      if (histograms.size > 0) this.#seconds.push({ t: point.t, trends: encodeAll(histograms) })
    })
  }

  /** The encoded histograms, once the run's series is closed (after the result is built). */
  encode (scenarios: ReadonlyMap<string, MetricsAggregator>): ShardReport['histograms'] {
    return {
      totals: encodeAll(this.#agg.trendHistograms()),
      seconds: this.#seconds,
      ...(scenarios.size > 0 && { scenarios: Object.fromEntries([...scenarios].map(([name, a]) => [name, encodeAll(a.trendHistograms())])) })
    }
  }
}
