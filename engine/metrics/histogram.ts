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


const round3 = (v: number): number => Math.round(v * 1000) / 1000

/**
 * Summary in milliseconds of a histogram of microseconds; `perUnit` 1: of a custom trend recorded
 * in whole units of its own (bytes, items), summarized in them.
 */
export function summarizeHistogram (h: Histogram, perUnit = 1000): TrendSummary {
  const count = h.totalCount
  if (count === 0) return { type: 'trend', count: 0, avg: 0, min: 0, med: 0, max: 0, p90: 0, p95: 0, p99: 0 }
  const ms = (us: number): number => round3(us / perUnit)
  return {
    type: 'trend',
    count,
    avg: ms(h.mean),
    min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    med: ms(h.getValueAtPercentile(50)),
    max: ms(h.maxValue),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99))
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
