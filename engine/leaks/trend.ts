// Leak verdict from heap readings taken after forced full GCs: a robust slope of bytes against
// completed operations (Theil-Sen), a rank test that the heap really trends upward (Mann-Kendall),
// and the same slope on each half of the window, so a cache that filled and stopped is told apart
// from a leak. The rules that turn this evidence into a verdict are in leak-verdict.ts.
import type { HeapSample, LeakVerdict, TrendResult } from '../result/index.js'
import { assertFiniteSeries, mannKendall } from './mann-kendall.js'
import { decideVerdict, isFlattening, type TrendEvidence } from './leak-verdict.js'
import { theilSen } from './theil-sen.js'

export { mannKendall, type MannKendallResult } from './mann-kendall.js'
export { theilSen, type TheilSenResult } from './theil-sen.js'


export interface TrendOptions {
  /** share of samples at the start treated as warm-up and ignored (default 0.5: the steady window is the second half) */
  warmupFraction?: number
  /** fewest samples needed in the steady window for any verdict (default 8) */
  minSamples?: number
  /** growth below this many bytes per operation is never a leak (default 32) */
  floorBytesPerOp?: number
  /** one-sided significance level for the trend test (default 0.01) */
  alpha?: number
}


interface ResolvedOptions { warmupFraction: number, minSamples: number, floorBytesPerOp: number, alpha: number }

function resolveOptions (options: TrendOptions): ResolvedOptions {
  const o = {
    warmupFraction: options.warmupFraction ?? 0.5,
    minSamples: options.minSamples ?? 8,
    floorBytesPerOp: options.floorBytesPerOp ?? 32,
    alpha: options.alpha ?? 0.01
  }
  if (!(o.warmupFraction >= 0 && o.warmupFraction < 1)) throw new RangeError(`warmupFraction must be in [0, 1), got ${o.warmupFraction}`)
  // Three points are the least that can show a trend; the halves used for flattening need them too.
  if (!(Number.isInteger(o.minSamples) && o.minSamples >= 3)) throw new RangeError(`minSamples must be an integer >= 3, got ${o.minSamples}`)
  if (!Number.isFinite(o.floorBytesPerOp)) throw new RangeError(`floorBytesPerOp must be a finite number, got ${o.floorBytesPerOp}`)
  if (!(o.alpha > 0 && o.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${o.alpha}`)
  return o
}

/** Index where the steady window starts for n samples. */
function windowStart (n: number, warmupFraction: number): number {
  return Math.floor(n * warmupFraction)
}

/** Fewest total samples whose steady window holds `min` samples (window size never shrinks as n grows, so bisect). */
function samplesNeeded (n: number, min: number, warmupFraction: number): number {
  const size = (total: number): number => total - windowStart(total, warmupFraction)
  let lo = n
  let hi = Math.max(n, Math.ceil(min / (1 - warmupFraction)) + 1)
  while (size(hi) < min) hi *= 2
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (size(mid) >= min) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * Decides whether the heap grows with the work done. The steady window is the samples after the
 * warm-up share; on it (x = ops, y = usedBytes, in sample order) the evidence is the Theil-Sen
 * slope with its 95% interval, the Mann-Kendall p-value, and the same slope on each half of the
 * window. Fewer than minSamples samples, or no operations completed across the window, give
 * 'inconclusive'; otherwise the rules in leak-verdict.ts decide.
 */
export function analyzeHeapTrend (samples: HeapSample[], options: TrendOptions = {}): TrendResult {
  const o = resolveOptions(options)
  const n = samples.length
  const ops = samples.map(s => s.ops)
  const used = samples.map(s => s.usedBytes)
  assertFiniteSeries(ops, 'samples[].ops')
  assertFiniteSeries(used, 'samples[].usedBytes')

  const from = windowStart(n, o.warmupFraction)
  const xs = ops.slice(from)
  const ys = used.slice(from)
  const k = xs.length
  // The halves overlap in nothing; for odd k the middle sample goes to the second half.
  const mid = Math.floor(k / 2)
  const evidence: TrendEvidence = {
    fit: theilSen(xs, ys),
    p: mannKendall(ys).pIncreasing,
    first: theilSen(xs.slice(0, mid), ys.slice(0, mid)),
    second: theilSen(xs.slice(mid), ys.slice(mid)),
    floor: o.floorBytesPerOp,
    alpha: o.alpha,
    readings: k,
    span: k > 0 ? `samples ${from}..${n - 1}` : 'no samples'
  }
  const result = (verdict: LeakVerdict, reason: string): TrendResult => ({
    verdict,
    reason,
    bytesPerOp: evidence.fit.slope,
    ciLow: evidence.fit.low,
    ciHigh: evidence.fit.high,
    pValue: evidence.p,
    mbPerMillionOps: evidence.fit.slope * 1e6 / 2 ** 20,
    window: { from, to: n },
    flattening: isFlattening(evidence),
    halves: { first: evidence.first, second: evidence.second }
  })

  if (k < o.minSamples) {
    const more = samplesNeeded(n, o.minSamples, o.warmupFraction) - n
    return result('inconclusive', `only ${k} heap sample${k === 1 ? '' : 's'} in the steady window after the ` +
      `${Math.round(o.warmupFraction * 100)}% warm-up, need ${o.minSamples}: take ${more} more sample${more === 1 ? '' : 's'}`)
  }
  if (xs.every(x => x === xs[0])) {
    return result('inconclusive', `no operations completed during the steady window (${evidence.span}), so growth per operation cannot be measured`)
  }
  const { verdict, reason } = decideVerdict(evidence)
  return result(verdict, reason)
}
