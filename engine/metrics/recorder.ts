// Worker-side recording. Nothing keeps samples. Hot paths hold a counter cell or a histogram
// (counter(), histogram()) and skip even the Map lookup; cells live as long as the recorder.
import { createHistogram, encodeHistogram, type Histogram } from './histogram.js'
import type { MetricsDelta } from './delta.js'
import { CheckSamples } from './check-samples.js'
import { NameCap } from './name-cap.js'
import { OutcomeMarks } from './outcome-marks.js'
import type { CustomMetricDefinition } from './custom.js'
import { TagCap } from './tag-cap.js'
import { TagSet } from './tag-set.js'
import { checkTags } from './tag-names.js'

/** distinct raw tag sets remembered; past it the cache starts over (values folded past the cap would grow it) */
const TAG_SETS_CACHED = 10_000

export interface RateCell { passes: number, fails: number }
export interface CounterCell { value: number }

export class MetricsRecorder {
  readonly #counters = new Map<string, CounterCell>()
  readonly #rates = new Map<string, RateCell>()
  readonly #trends = new Map<string, Histogram>()
  readonly #gauges = new Map<string, number>()
  /** custom gauges since the last flush: [last, min, max] (the run's value is the last one set anywhere) */
  readonly #customGauges = new Map<string, [number, number, number]>()
  /** custom metrics first used or declared since the last flush */
  #definitions: Record<string, CustomMetricDefinition> | undefined
  /** request names (the `name` tag) beyond the run's cap fold into `(other)` */
  readonly names: NameCap
  /** every tag's values beyond the run's cap fold into `(other)` (the `name` tag: `names`) */
  readonly tagCap: TagCap
  readonly #tagSets = new Map<string, TagSet>()
  /** where each check first failed */
  readonly checkSamples = new CheckSamples()
  /** when HTTP requests succeeded and failed, for outage edges */
  readonly outcomes = new OutcomeMarks()

  constructor (maxRequestNames?: number) {
    this.names = new NameCap(maxRequestNames)
    this.tagCap = new TagCap(this.names)
  }

  /**
   * The keys and cells a sample with these tags records into besides the bare metric, cached per
   * distinct tag set; values are bounded by the cap. Throws CT_ERR_SCENARIO_INVALID for a tag
   * name that is not an identifier or a value that is empty or not a string.
   */
  tagged (tags: Readonly<Record<string, string>>): TagSet {
    // the cache key keeps the caller's order (no sort, no arrays): one call site, one entry
    let raw = ''
    for (const name in tags) {
      const value = tags[name] as unknown
      if (typeof value !== 'string') checkTags(tags) // throws: 42 must not share '42's entry
      raw += `${name}\u0000${value as string}\u0000`
    }
    let set = this.#tagSets.get(raw)
    if (set === undefined) {
      checkTags(tags)
      const bounded: Record<string, string> = {}
      for (const name in tags) bounded[name] = this.tagCap.bound(name, tags[name]!)
      set = new TagSet(bounded, this)
      if (this.#tagSets.size >= TAG_SETS_CACHED) this.#tagSets.clear()
      this.#tagSets.set(raw, set)
    }
    return set
  }

  count (key: string, n = 1): void {
    this.counter(key).value += n
  }

  /** The cell behind a counter: `cell.value += n` records without a lookup. */
  counter (key: string): CounterCell {
    let c = this.#counters.get(key)
    if (c === undefined) {
      c = { value: 0 }
      this.#counters.set(key, c)
    }
    return c
  }

  /** The histogram behind a trend (values in microseconds): record into it directly. */
  histogram (key: string): Histogram {
    let h = this.#trends.get(key)
    if (h === undefined) {
      h = createHistogram()
      this.#trends.set(key, h)
    }
    return h
  }

  rate (key: string, passed: boolean): void {
    const cell = this.rateCell(key)
    if (passed) cell.passes++
    else cell.fails++
  }

  /** The cell behind a rate: `cell.passes++` / `cell.fails++` record without a lookup. */
  rateCell (key: string): RateCell {
    let cell = this.#rates.get(key)
    if (cell === undefined) {
      cell = { passes: 0, fails: 0 }
      this.#rates.set(key, cell)
    }
    return cell
  }

  /** Records a duration given in milliseconds (stored as whole microseconds). */
  trend (key: string, ms: number): void {
    this.histogram(key).recordValue(ms <= 0 ? 0 : Math.round(ms * 1000))
  }

  gauge (key: string, value: number): void {
    this.#gauges.set(key, value)
  }

  /** A custom gauge's value: the last one set wins, run-wide (a queue depth read by every user is not summed). */
  customGauge (key: string, value: number): void {
    const g = this.#customGauges.get(key)
    if (g === undefined) this.#customGauges.set(key, [value, value, value])
    else { g[0] = value; if (value < g[1]) g[1] = value; if (value > g[2]) g[2] = value }
  }

  /** Ships a custom metric's definition with the next flush, so the main thread knows its kind and unit. */
  define (name: string, definition: CustomMetricDefinition): void {
    (this.#definitions ??= {})[name] = definition
  }

  /** Everything recorded since the previous flush; resets the recorder (histograms are reused). */
  flush (): MetricsDelta {
    const delta: MetricsDelta = { counters: {}, rates: {}, trends: {}, gauges: {} }
    for (const [k, c] of this.#counters) {
      if (c.value !== 0) delta.counters[k] = c.value
      c.value = 0
    }
    for (const [k, c] of this.#rates) {
      if (c.passes + c.fails > 0) delta.rates[k] = [c.passes, c.fails]
      c.passes = 0
      c.fails = 0
    }
    for (const [k, h] of this.#trends) {
      if (h.totalCount > 0) {
        delta.trends[k] = encodeHistogram(h)
        h.reset()
      }
    }
    for (const [k, v] of this.#gauges) delta.gauges[k] = v
    this.#gauges.clear()
    if (this.#customGauges.size > 0) {
      delta.customGauges = Object.fromEntries(this.#customGauges)
      this.#customGauges.clear()
    }
    if (this.#definitions !== undefined) {
      delta.customMetrics = this.#definitions
      this.#definitions = undefined
    }
    const folded = this.names.drain()
    if (folded !== undefined) delta.folded = folded
    const foldedTags = this.tagCap.drain()
    if (foldedTags !== undefined) delta.foldedTags = foldedTags
    const samples = this.checkSamples.drain()
    if (samples !== undefined) delta.checkSamples = samples
    const outcomes = this.outcomes.drain()
    if (outcomes !== undefined) delta.outcomes = outcomes
    return delta
  }
}
