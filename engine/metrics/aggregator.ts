// Main-thread merge of worker deltas into run totals and a per-second time series.
import { InternalError } from '../errors.js'
import type { GaugeSummary, MetricSummary, SeriesPoint, TrendSummary } from '../result/index.js'
import { createHistogram, decodeHistogram, summarizeHistogram, type Histogram } from './histogram.js'
import { CheckSamples, type CheckFailureSample } from './check-samples.js'
import type { MetricsDelta } from './delta.js'
import { NameCap, OTHER_NAME } from './name-cap.js'
import { metricDefinition, metricKey, splitKey, type MetricKind } from './names.js'
import { TagCap } from './tag-cap.js'
import { mergeMarks, type OutcomeMarkTuple } from './outcome-marks.js'
import { trendPerUnit, type CustomMetricDefinition } from './custom.js'


interface Bucket {
  t: number
  counters: Map<string, number>
  rates: Map<string, { passes: number, fails: number }>
  trends: Map<string, Histogram>
  gauges: Map<string, number>
}

/** One second of metrics, read by key (undefined: nothing recorded under that key). */
export interface MetricView {
  /** seconds since the run started */
  t: number
  trend: (key: string) => TrendSummary | undefined
  percentile: (key: string, p: number) => number | undefined
  counter: (key: string) => number | undefined
  rate: (key: string) => { passes: number, fails: number } | undefined
  gauge: (key: string) => { value: number, min: number, max: number } | undefined
}

interface GaugeState { latestBySource: Map<string, number>, value: number, min: number, max: number }

function addRate (map: Map<string, { passes: number, fails: number }>, key: string, [p, f]: [number, number]): void {
  const cell = map.get(key)
  if (cell === undefined) map.set(key, { passes: p, fails: f })
  else { cell.passes += p; cell.fails += f }
}

/**
 * A key of a metric in the table arrives in its kind's section of a delta: a counter recorded as
 * a trend is the engine's bug, and merged it would leave one name with two kinds in report.json.
 * Checked once per new key (keys are cached), never per sample.
 */
function checkKind (key: string, kind: MetricKind): void {
  const d = metricDefinition(key)
  if (d !== undefined && d.kind !== kind) throw new InternalError(`metric key '${key}' is a ${d.kind} in the metric table, but arrived as a ${kind}`)
}

/** Request names of the run: the cap, how many were kept, and what was folded into `(other)`. */
export interface RequestNamesSummary {
  cap: number
  kept: number
  /** distinct names folded (summed over threads and the main thread: an upper bound), one of them */
  folded: { names: number, example: string } | undefined
  /** other tags whose values were folded: distinct values (an upper bound, as names) and one of them */
  foldedTags: Record<string, { values: number, example: string }>
}

/**
 * Tags the engine records itself (`checks{check:..}`, `ws.closes{code:..}`, `isolation.probes{result:..}` ...):
 * few values, reported one by one, so the main thread does not cap them. Request names and the
 * scenario's own tags are capped (workers cap every tag given through tags, these included).
 */
const ENGINE_TAGS = new Set(['check', 'code', 'event', 'reason', 'kind', 'result', 'budget'])

/** A stored key with two or more tags: the full combination of one tag set (see tag-set.ts). */
interface Combination { key: string, tags: Record<string, string> }

/** Told of each second as it closes, with that second's histograms (microseconds) by trend key. */
/** `perUnit(key)`: recorded values per reported unit (1000 for ms trends, kept in microseconds; 1 for a custom trend in whole units) */
export type SecondListener = (point: SeriesPoint, histograms: ReadonlyMap<string, Histogram>, perUnit: (key: string) => number) => void

export class MetricsAggregator {
  readonly #origin: number
  readonly #names: NameCap
  readonly #tagCap: TagCap
  readonly #foldedTags = new Map<string, { values: number, example: string }>()
  /** per metric: its stored full-combination keys, for queries on several tags */
  readonly #combinations = new Map<string, Combination[]>()
  /** merged histograms of multi-tag queries, valid while #version is unchanged */
  readonly #merged = new Map<string, { version: number, h: Histogram }>()
  #version = 0
  /** per kind, incoming key -> the key it is stored under (its tag values folded past the caps) */
  readonly #keyOf: Record<'counter' | 'rate' | 'trend', Map<string, string>> = { counter: new Map(), rate: new Map(), trend: new Map() }
  #folded: { names: number, example: string } | undefined
  readonly #checkSamples = new CheckSamples()
  /** the newest second already closed into the series: later data for it goes to the next open one */
  #lastClosed = -1
  readonly #counters = new Map<string, number>()
  readonly #rates = new Map<string, { passes: number, fails: number }>()
  readonly #trends = new Map<string, Histogram>()
  readonly #gauges = new Map<string, GaugeState>()
  readonly #open = new Map<number, Bucket>()
  readonly #series: SeriesPoint[] = []
  readonly #listeners: SecondListener[] = []
  /** per second: when HTTP requests first succeeded and failed, and where the trailing streaks began (epoch ms) */
  readonly #marks = new Map<number, OutcomeMarkTuple>()
  /** custom metrics by name: declared by the scenario, or as first used in a worker */
  readonly #custom = new Map<string, CustomMetricDefinition>()

  constructor (origin: number, maxRequestNames?: number) {
    this.#origin = origin
    this.#names = new NameCap(maxRequestNames)
    this.#tagCap = new TagCap(this.#names)
  }

  /** Merges one delta. `source` identifies the sender so gauges sum the latest value of each. */
  add (delta: MetricsDelta, source: string, now: number): void {
    const bucket = this.#bucket(now)
    this.#version++
    if (delta.folded !== undefined) this.#addFolded(delta.folded.names, delta.folded.example)
    for (const tag in delta.foldedTags) this.#addFoldedTag(tag, delta.foldedTags[tag]!.names, delta.foldedTags[tag]!.example)
    for (const s of delta.checkSamples ?? []) this.#checkSamples.add(s)
    if (delta.outcomes !== undefined) this.#marks.set(bucket.t, mergeMarks(this.#marks.get(bucket.t), delta.outcomes))
    for (const raw in delta.counters) {
      const n = delta.counters[raw]!
      const k = this.#key(raw, 'counter')
      this.#counters.set(k, (this.#counters.get(k) ?? 0) + n)
      bucket.counters.set(k, (bucket.counters.get(k) ?? 0) + n)
    }
    for (const raw in delta.rates) {
      const k = this.#key(raw, 'rate')
      addRate(this.#rates, k, delta.rates[raw]!)
      addRate(bucket.rates, k, delta.rates[raw]!)
    }
    for (const raw in delta.trends) {
      const k = this.#key(raw, 'trend')
      const h = decodeHistogram(delta.trends[raw]!)
      let total = this.#trends.get(k)
      if (total === undefined) { total = createHistogram(); this.#trends.set(k, total) }
      total.add(h)
      let b = bucket.trends.get(k)
      if (b === undefined) { b = createHistogram(); bucket.trends.set(k, b) }
      b.add(h)
    }
    for (const k in delta.gauges) this.setGauge(k, source, delta.gauges[k]!, now)
    for (const k in delta.customGauges) this.#setCustomGauge(k, delta.customGauges[k]!, now)
    for (const name in delta.customMetrics) this.define(name, delta.customMetrics[name]!)
  }

  /** Knows a custom metric (its kind and unit, for reports); the first definition of a name stays. */
  define (name: string, definition: CustomMetricDefinition): void {
    if (!this.#custom.has(name)) this.#custom.set(name, definition)
  }

  /** The custom metrics of the run by name (declared or used), sorted. */
  customMetrics (): Record<string, CustomMetricDefinition> {
    return Object.fromEntries([...this.#custom].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  /** Recorded values per reported one: 1000 (microseconds of ms), or 1 for a custom trend in whole units of its own. */
  #perUnit (key: string): number {
    if (this.#custom.size === 0) return 1000
    const open = key.indexOf('{')
    const d = this.#custom.get(open === -1 ? key : key.slice(0, open))
    return d !== undefined && trendPerUnit(d) === 1 ? 1 : 1000
  }

  /** A custom gauge is the last value set anywhere (not a sum over threads), with the least and most seen. */
  #setCustomGauge (key: string, [last, min, max]: [number, number, number], now: number): void {
    let g = this.#gauges.get(key)
    if (g === undefined) {
      g = { latestBySource: new Map(), value: last, min, max }
      this.#gauges.set(key, g)
    }
    g.value = last
    if (min < g.min) g.min = min
    if (max > g.max) g.max = max
    this.#bucket(now).gauges.set(key, last)
  }

  /** Sets one source's value of a gauge; the gauge is the sum over sources. */
  setGauge (key: string, source: string, value: number, now: number): void {
    let g = this.#gauges.get(key)
    if (g === undefined) {
      checkKind(key, 'gauge')
      g = { latestBySource: new Map(), value: 0, min: Infinity, max: -Infinity }
      this.#gauges.set(key, g)
    }
    g.value += value - (g.latestBySource.get(source) ?? 0)
    g.latestBySource.set(source, value)
    if (g.value < g.min) g.min = g.value
    if (g.value > g.max) g.max = g.value
    // a second's value is the last one set in it: sources report together on tick boundaries,
    // and the sum is only whole once the last of them has (a max would keep half-updated sums)
    this.#bucket(now).gauges.set(key, g.value)
  }

  /**
   * Run-level values judged after the load (outages): in the totals and thresholds, never in the
   * time series. A gauge takes the values in order (its min and max over them); a counter adds `n`.
   */
  note (key: string, values: readonly number[]): void {
    if (values.length === 0) return
    const g: GaugeState = this.#gauges.get(key) ?? { latestBySource: new Map(), value: 0, min: Infinity, max: -Infinity }
    for (const v of values) {
      g.value = v
      if (v < g.min) g.min = v
      if (v > g.max) g.max = v
    }
    this.#gauges.set(key, g)
  }

  noteCount (key: string, n: number): void {
    this.#version++
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + n)
  }

  /** The first failure of each check that failed: who, after which request, at which line. */
  checkSamples (): CheckFailureSample[] {
    return this.#checkSamples.list()
  }

  /** What became of request names: the cap, the kept count, the folded ones. */
  requestNames (): RequestNamesSummary {
    return {
      cap: this.#names.limit,
      kept: this.#names.kept,
      folded: this.#folded === undefined ? undefined : { ...this.#folded },
      foldedTags: Object.fromEntries([...this.#foldedTags].map(([tag, f]) => [tag, { ...f }]))
    }
  }

  /**
   * A key with two or more tags reads the merge of every stored full combination holding those
   * tags (each sample is in exactly one, so the merge is exact); other keys read themselves.
   */
  counter (key: string): number {
    const keys = this.#matching(key)
    if (keys === undefined) return this.#counters.get(key) ?? 0
    let n = 0
    for (const k of keys) n += this.#counters.get(k) ?? 0
    return n
  }

  rate (key: string): { passes: number, fails: number } {
    const keys = this.#matching(key)
    if (keys === undefined) return this.#rates.get(key) ?? { passes: 0, fails: 0 }
    const sum = { passes: 0, fails: 0 }
    for (const k of keys) {
      const r = this.#rates.get(k)
      if (r !== undefined) { sum.passes += r.passes; sum.fails += r.fails }
    }
    return sum
  }

  /** Whether anything was recorded under `key` (several tags: under a combination holding them). */
  has (key: string): boolean {
    const keys = this.#matching(key)
    const stored = (k: string): boolean => this.#counters.has(k) || this.#rates.has(k) || this.#trends.has(k) || this.#gauges.has(k)
    return keys === undefined ? stored(key) : keys.some(stored)
  }

  gauge (key: string): GaugeSummary | undefined {
    const g = this.#gauges.get(key)
    return g === undefined ? undefined : { type: 'gauge', value: g.value, min: g.min, max: g.max }
  }

  trend (key: string): TrendSummary | undefined {
    const h = this.#histogram(key)
    return h === undefined ? undefined : summarizeHistogram(h, this.#perUnit(key))
  }

  /** Percentile `p` (0 < p <= 100) of a trend's run-total histogram, in milliseconds (3 decimals); undefined if no such trend. */
  percentile (key: string, p: number): number | undefined {
    const h = this.#histogram(key)
    if (h === undefined) return undefined
    return h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / this.#perUnit(key)
  }

  /**
   * The last complete second as a metric view (trend summaries and percentiles from that second's
   * histograms), for checks on current load rather than run totals; undefined early in the run.
   */
  lastSecondView (now: number): MetricView | undefined {
    const t = Math.floor((now - this.#origin) / 1000) - 1
    const b = this.#open.get(t)
    if (b === undefined) return undefined
    return {
      t,
      trend: (key) => { const h = b.trends.get(key); return h === undefined ? undefined : summarizeHistogram(h, this.#perUnit(key)) },
      percentile: (key, p) => { const h = b.trends.get(key); return h === undefined ? undefined : h.totalCount === 0 ? 0 : Math.round(h.getValueAtPercentile(p)) / this.#perUnit(key) },
      counter: key => b.counters.get(key),
      rate: key => b.rates.get(key),
      gauge: (key) => { const v = b.gauges.get(key); return v === undefined ? undefined : { value: v, min: v, max: v } }
    }
  }

  /** The last complete second (for progress lines), or undefined early in the run. */
  lastSecond (now: number): SeriesPoint | undefined {
    const t = Math.floor((now - this.#origin) / 1000) - 1
    const open = this.#open.get(t)
    if (open !== undefined) return toPoint(open, k => this.#perUnit(k))
    const last = this.#series.at(-1)
    return last?.t === t ? last : undefined
  }

  /**
   * Per second of the series: the first success, the first success after the last failure, the
   * first failure and the first failure after the last success, in ms since the run started (NaN: none).
   */
  outcomeMarks (): ReadonlyMap<number, OutcomeMarkTuple> {
    const shift = performance.timeOrigin + this.#origin
    return new Map([...this.#marks].map(([t, m]) => [t, m.map(v => v - shift) as OutcomeMarkTuple]))
  }

  /** Each trend key's run-total histogram (microseconds, or a custom trend's own units), as stored. */
  trendHistograms (): ReadonlyMap<string, Histogram> {
    return this.#trends
  }

  keys (): string[] {
    return [...new Set([...this.#counters.keys(), ...this.#rates.keys(), ...this.#trends.keys(), ...this.#gauges.keys()])].sort()
  }

  /** Totals per metric key. `loadSeconds` turns counter totals into rates. */
  summary (loadSeconds: number): Record<string, MetricSummary> {
    const out: Record<string, MetricSummary> = {}
    const per = loadSeconds > 0 ? loadSeconds : 1
    for (const key of this.keys()) {
      const c = this.#counters.get(key)
      if (c !== undefined) { out[key] = { type: 'counter', count: c, rate: Math.round((c / per) * 100) / 100 }; continue }
      const r = this.#rates.get(key)
      if (r !== undefined) {
        const total = r.passes + r.fails
        out[key] = { type: 'rate', rate: total === 0 ? 0 : Math.round((r.passes / total) * 1e6) / 1e6, passes: r.passes, fails: r.fails }
        continue
      }
      const h = this.#trends.get(key)
      if (h !== undefined) { out[key] = summarizeHistogram(h, this.#perUnit(key)); continue }
      const g = this.gauge(key)
      if (g !== undefined) out[key] = g
    }
    return out
  }

  /**
   * Calls `listener` with each second as it closes, oldest first, once each: a second closes when
   * the one after next opens, or at series(). Late ticks land in a second still open, so the
   * points a listener sees add up to the run's totals.
   */
  onSecondClosed (listener: SecondListener): void {
    this.#listeners.push(listener)
  }

  /** Closes every open second and returns the whole series, oldest first. */
  series (): SeriesPoint[] {
    this.#closeBefore(Infinity)
    return this.#series
  }

  #key (raw: string, kind: 'counter' | 'rate' | 'trend'): string {
    const keys = this.#keyOf[kind]
    let k = keys.get(raw)
    if (k === undefined) {
      checkKind(raw, kind)
      k = raw
      const { metric, tags } = splitKey(raw)
      const names = Object.keys(tags)
      if (names.length > 0) {
        // the cap holds run-wide: workers fold past their own caps, the main thread folds again
        let folded = false
        for (const name of names) {
          if (ENGINE_TAGS.has(name)) continue
          const bounded = this.#tagCap.bound(name, tags[name]!)
          if (bounded !== tags[name]) { tags[name] = bounded; folded = true }
        }
        if (folded) {
          k = metricKey(metric, tags)
          const newly = this.#names.drain()
          if (newly !== undefined) this.#addFolded(newly.names, newly.example)
          const others = this.#tagCap.drain()
          for (const tag in others) this.#addFoldedTag(tag, others[tag]!.names, others[tag]!.example)
        }
        if (names.length >= 2 && !this.#isCombination(metric, k)) {
          let list = this.#combinations.get(metric)
          if (list === undefined) { list = []; this.#combinations.set(metric, list) }
          list.push({ key: k, tags })
        }
      }
      keys.set(raw, k)
    }
    return k
  }

  #isCombination (metric: string, key: string): boolean {
    return this.#combinations.get(metric)?.some(c => c.key === key) ?? false
  }

  /** Stored combinations holding every tag of `key`, or undefined when `key` has fewer than two tags. */
  #matching (key: string): string[] | undefined {
    if (key.indexOf(',') === -1) return undefined
    const { metric, tags } = splitKey(key)
    const wanted = Object.entries(tags)
    if (wanted.length < 2) return undefined
    const out: string[] = []
    for (const c of this.#combinations.get(metric) ?? []) {
      if (wanted.every(([n, v]) => c.tags[n] === v)) out.push(c.key)
    }
    return out
  }

  /** A trend's run-total histogram; several tags: the merge of the matching combinations (cached per version). */
  #histogram (key: string): Histogram | undefined {
    const keys = this.#matching(key)
    if (keys === undefined) return this.#trends.get(key)
    const cached = this.#merged.get(key)
    if (cached?.version === this.#version) return cached.h
    const parts = keys.flatMap(k => this.#trends.get(k) ?? [])
    if (parts.length === 0) return undefined
    const h = createHistogram()
    for (const part of parts) h.add(part)
    this.#merged.set(key, { version: this.#version, h })
    return h
  }

  #addFoldedTag (tag: string, values: number, example: string): void {
    if (example === OTHER_NAME) return
    const f = this.#foldedTags.get(tag)
    if (f === undefined) this.#foldedTags.set(tag, { values, example })
    else f.values += values
  }

  #addFolded (names: number, example: string): void {
    if (example === OTHER_NAME) return
    if (this.#folded === undefined) this.#folded = { names, example }
    else this.#folded.names += names
  }

  #bucket (now: number): Bucket {
    // a tick that arrives late (a busy worker) covers a second already closed: it is counted in the
    // oldest second still open, so the series stays ordered by time
    const t = Math.max(0, this.#lastClosed + 1, Math.floor((now - this.#origin) / 1000))
    let b = this.#open.get(t)
    if (b === undefined) {
      // Seconds older than the previous one receive no more data: summarize and drop their histograms.
      this.#closeBefore(t - 1)
      b = { t, counters: new Map(), rates: new Map(), trends: new Map(), gauges: new Map() }
      this.#open.set(t, b)
    }
    return b
  }

  #closeBefore (t: number): void {
    const done = [...this.#open.keys()].filter(k => k < t).sort((a, b) => a - b)
    for (const k of done) {
      const bucket = this.#open.get(k)!
      const point = toPoint(bucket, k => this.#perUnit(k))
      this.#series.push(point)
      this.#open.delete(k)
      this.#lastClosed = k
      for (const listener of this.#listeners) listener(point, bucket.trends, k => this.#perUnit(k))
    }
  }
}

function toPoint (b: Bucket, perUnit: (key: string) => number): SeriesPoint {
  const trends: SeriesPoint['trends'] = {}
  for (const [k, h] of b.trends) {
    const s = summarizeHistogram(h, perUnit(k))
    trends[k] = { count: s.count, med: s.med, p95: s.p95, p99: s.p99, max: s.max }
  }
  return {
    t: b.t,
    counters: Object.fromEntries(b.counters),
    rates: Object.fromEntries(b.rates),
    trends,
    gauges: Object.fromEntries(b.gauges)
  }
}
