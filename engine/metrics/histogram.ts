// Trends are HDR histograms of microseconds: bounded memory whatever the sample count,
// 3 significant digits, mergeable across threads (autocannon's approach).
import * as hdr from 'hdr-histogram-js'
import type { Histogram } from 'hdr-histogram-js'
import type { TrendSummary } from '../result/index.js'

export type { Histogram }

export function createHistogram (): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2 ** 32,
    numberOfSignificantValueDigits: 3
  })
}

export function encodeHistogram (h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h)
}

export function decodeHistogram (encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false)
}


/** The JsHistogram members recordSingleValue uses (histograms here never use WebAssembly). */
interface HdrRecordInternals {
  countsArrayLength: number
  unitMagnitude: number
  subBucketHalfCountMagnitude: number
  subBucketHalfCount: number
  incrementCountAtIndex: (index: number) => void
  updateMinAndMax: (value: number) => void
  incrementTotalCount: () => void
}

/**
 * `h.recordValue(value)` for the per-frame hot path: the same bucket arithmetic with integer ops
 * (Math.clz32 and a shift) where hdr-histogram-js calls Math.log2 and Math.pow per value. Values
 * of 2^32 and up, and any that need a resize, take hdr's own path.
 */
export function recordValueFast (h: Histogram, value: number): void {
  const j = h as unknown as HdrRecordInternals
  if (value >= 0 && value < 4294967296) {
    const shift = 31 - Math.clz32(value) - j.subBucketHalfCountMagnitude - j.unitMagnitude
    const bucket = shift > 0 ? shift : 0
    const index = ((bucket + 1) << j.subBucketHalfCountMagnitude) + (value >>> (bucket + j.unitMagnitude)) - j.subBucketHalfCount
    if (index < j.countsArrayLength) {
      j.incrementCountAtIndex(index)
      j.updateMinAndMax(value)
      j.incrementTotalCount()
      return
    }
  }
  h.recordValue(value)
}


const round3 = (v: number): number => Math.round(v * 1000) / 1000

/** The JsHistogram methods the one-pass summary reads (histograms here never use WebAssembly). */
interface HdrInternals {
  countsArrayLength: number
  getCountAtIndex: (index: number) => number
  valueFromIndex: (index: number) => number
  highestEquivalentValue: (value: number) => number
  medianEquivalentValue: (value: number) => number
}

const PERCENTILES = [50, 90, 95, 99] as const
// hdr-histogram-js's own ulp, for its percentile count rounding
const ulp = (x: number): number => 2 ** (Math.floor(Math.log2(x)) - 52)

/**
 * Summary in milliseconds of a histogram of microseconds (`perUnit` 1: of a custom trend recorded
 * in whole units of its own, bytes or items, summarized in them). One pass over the counts gives what
 * hdr-histogram-js's getters give (the same arithmetic in the same order), which would walk the
 * counts once per percentile and once more, through an object-heavy iterator, for the mean: the
 * main thread summarizes every trend of every second of the run.
 */
export function summarizeHistogram (h: Histogram, perUnit = 1000): TrendSummary {
  const count = h.totalCount
  if (count === 0) return { type: 'trend', count: 0, avg: 0, min: 0, med: 0, max: 0, p90: 0, p95: 0, p99: 0 }
  const j = h as unknown as HdrInternals
  const wanted = PERCENTILES.map(p => { const fp = p / 100 * count; return Math.max(Math.ceil(fp - ulp(fp)), 1) })
  const at = [0, 0, 0, 0]
  let next = 0
  let seen = 0
  let sum = 0
  for (let i = 0; i < j.countsArrayLength && seen < count; i++) {
    const c = j.getCountAtIndex(i)
    if (c === 0) continue
    const v = j.valueFromIndex(i)
    sum += j.medianEquivalentValue(v) * c
    seen += c
    for (; next < wanted.length && seen >= wanted[next]!; next++) at[next] = j.highestEquivalentValue(v)
  }
  const ms = (us: number): number => round3(us / perUnit)
  return {
    type: 'trend',
    count,
    avg: ms(sum / count),
    min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    med: ms(at[0]!),
    max: ms(h.maxValue),
    p90: ms(at[1]!),
    p95: ms(at[2]!),
    p99: ms(at[3]!)
  }
}

/** Each distinct recorded value (microseconds, at HDR's 3 significant digits) with its count, lowest first. */
export function forEachRecorded (h: Histogram, fn: (valueUs: number, count: number) => void): void {
  // histograms here are built without WebAssembly: JsHistogram, whose iterator the Histogram interface hides
  const it = (h as unknown as { recordedValuesIterator: RecordedValuesIterator }).recordedValuesIterator
  it.reset()
  while (it.hasNext()) {
    const v = it.next()
    fn(v.valueIteratedTo, v.countAtValueIteratedTo)
  }
}

interface RecordedValuesIterator {
  reset: () => void
  hasNext: () => boolean
  next: () => { valueIteratedTo: number, countAtValueIteratedTo: number }
}
