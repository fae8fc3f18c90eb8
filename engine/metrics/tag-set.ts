// The keys one tag set records into, besides the bare metric: one single-tag key per tag
// (`{name:pay}`, `{flow:checkout}`) and, with two or more tags, the one full combination
// (`{flow:checkout,group:checkout,name:pay}`). Each sample lands in exactly one full-combination
// key, so a query on several tags is the exact merge of the combinations that contain them
// (MetricsAggregator). Built once per distinct tag set and cached by the recorder, with the
// cells behind each metric, so a tagged request records without building strings.
import type { Histogram } from './histogram.js'
import { metricKey } from './names.js'

export interface TagSetCells {
  counter: (key: string) => { value: number }
  histogram: (key: string) => Histogram
  rateCell: (key: string) => { passes: number, fails: number }
}

export class TagSet {
  /** the tags, their values already bounded by the cap */
  readonly tags: Readonly<Record<string, string>>
  /** `{a:x}` per tag, then `{a:x,b:y}` when there are two or more */
  readonly suffixes: readonly string[]
  readonly #cells: TagSetCells
  readonly #counters = new Map<string, Array<{ value: number }>>()
  readonly #histograms = new Map<string, Histogram[]>()
  readonly #rates = new Map<string, Array<{ passes: number, fails: number }>>()

  constructor (tags: Readonly<Record<string, string>>, cells: TagSetCells) {
    this.tags = tags
    this.#cells = cells
    const names = Object.keys(tags).sort()
    const suffixes = names.map(n => metricKey('', { [n]: tags[n]! }))
    if (names.length >= 2) suffixes.push(metricKey('', tags))
    this.suffixes = suffixes
  }

  /** The tagged keys of `metric` (bare key excluded). */
  keys (metric: string): string[] {
    return this.suffixes.map(s => metric + s)
  }

  /** Counter cells of `metric`'s tagged keys: `for (const c of set.counters(m)) c.value += n`. */
  counters (metric: string): ReadonlyArray<{ value: number }> {
    let list = this.#counters.get(metric)
    if (list === undefined) {
      list = this.keys(metric).map(k => this.#cells.counter(k))
      this.#counters.set(metric, list)
    }
    return list
  }

  /** Histograms (microseconds) of `metric`'s tagged keys. */
  histograms (metric: string): readonly Histogram[] {
    let list = this.#histograms.get(metric)
    if (list === undefined) {
      list = this.keys(metric).map(k => this.#cells.histogram(k))
      this.#histograms.set(metric, list)
    }
    return list
  }

  /** Rate cells of `metric`'s tagged keys. */
  rates (metric: string): ReadonlyArray<{ passes: number, fails: number }> {
    let list = this.#rates.get(metric)
    if (list === undefined) {
      list = this.keys(metric).map(k => this.#cells.rateCell(k))
      this.#rates.set(metric, list)
    }
    return list
  }

  /** Records a duration in ms into every tagged key of a trend (whole microseconds, as MetricsRecorder.trend). */
  trend (metric: string, ms: number): void {
    const us = ms <= 0 ? 0 : Math.round(ms * 1000)
    for (const h of this.histograms(metric)) h.recordValue(us)
  }
}
