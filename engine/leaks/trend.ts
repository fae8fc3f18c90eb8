// Leak verdict from heap readings taken after forced full GCs: a robust slope of bytes against
// completed operations (Theil-Sen), a rank test that the heap really trends upward (Mann-Kendall),
// and a check that the growth is not a cache that filled and stopped.
import type { HeapSample, LeakVerdict, TrendResult } from '../result/index.js'
import { assertFiniteSeries, mannKendall } from './mann-kendall.js'
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


/** Above this p-value there is no evidence of growth at all (looser than alpha on purpose: between the two is 'inconclusive'). */
const NO_TREND_P = 0.05
/** The second half of the window growing at under this share of the first half's rate counts as flattening. */
const FLATTENING_RATIO = 0.25

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

function formatBytes (v: number): string {
  if (Math.abs(v) >= 100) return String(Math.round(v))
  return String(Number(v.toPrecision(3)))
}

function formatP (p: number): string {
  if (p < 0.001) return p.toExponential(0)
  return String(Number(p.toPrecision(2)))
}

/**
 * Decides whether the heap grows with the work done. The steady window is the samples after the
 * warm-up share; on it (x = ops, y = usedBytes, in sample order):
 * - fewer than minSamples samples, or no operations completed across it: 'inconclusive';
 * - flattening (second-half Theil-Sen slope < 25% of a first-half slope above the floor): 'no-leak'
 *   when the second-half slope is under the floor, else 'inconclusive';
 * - Mann-Kendall p < alpha and the 95% CI of the slope entirely above the floor: 'leak';
 * - p >= 0.05 or the CI entirely below the floor: 'no-leak';
 * - anything else: 'inconclusive'.
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
  const window = { from, to: n }
  const span = k > 0 ? `samples ${from}..${n - 1}` : 'no samples'

  const fit = theilSen(xs, ys)
  const mk = mannKendall(ys)
  // The halves overlap in nothing; for odd k the middle sample goes to the second half.
  const mid = Math.floor(k / 2)
  const firstHalf = theilSen(xs.slice(0, mid), ys.slice(0, mid)).slope
  const lastHalf = theilSen(xs.slice(mid), ys.slice(mid)).slope
  const flattening = firstHalf > o.floorBytesPerOp && lastHalf < FLATTENING_RATIO * firstHalf

  const floor = formatBytes(o.floorBytesPerOp)
  const stats = `slope ${formatBytes(fit.slope)} B/op (95% CI ${formatBytes(fit.low)}..${formatBytes(fit.high)}), ` +
    `Mann-Kendall p=${formatP(mk.pIncreasing)} in the steady window (${span})`
  const result = (verdict: LeakVerdict, reason: string): TrendResult => ({
    verdict,
    reason,
    bytesPerOp: fit.slope,
    ciLow: fit.low,
    ciHigh: fit.high,
    pValue: mk.pIncreasing,
    mbPerMillionOps: fit.slope * 1e6 / 2 ** 20,
    window,
    flattening
  })

  if (k < o.minSamples) {
    const more = samplesNeeded(n, o.minSamples, o.warmupFraction) - n
    return result('inconclusive', `only ${k} heap sample${k === 1 ? '' : 's'} in the steady window after the ` +
      `${Math.round(o.warmupFraction * 100)}% warm-up, need ${o.minSamples}: take ${more} more sample${more === 1 ? '' : 's'}`)
  }
  if (xs.every(x => x === xs[0])) {
    return result('inconclusive', `no operations completed during the steady window (${span}), so growth per operation cannot be measured`)
  }
  if (flattening) {
    const halves = `growth slowed from ${formatBytes(firstHalf)} to ${formatBytes(lastHalf)} B/op between the halves of the steady window`
    return lastHalf < o.floorBytesPerOp
      ? result('no-leak', `${halves}, under the ${floor} B/op floor, like a cache that filled; ${stats}`)
      : result('inconclusive', `${halves} but is still above the ${floor} B/op floor; ${stats}`)
  }
  if (mk.pIncreasing < o.alpha && fit.low > o.floorBytesPerOp) {
    const mb = Number((fit.slope * 1e6 / 2 ** 20).toPrecision(3))
    return result('leak', `heap grows steadily with load (${mb} MB per million ops): ${stats}`)
  }
  if (mk.pIncreasing >= NO_TREND_P) return result('no-leak', `no significant upward trend: ${stats}`)
  if (fit.high < o.floorBytesPerOp) return result('no-leak', `growth is under the ${floor} B/op floor: ${stats}`)
  return mk.pIncreasing >= o.alpha
    ? result('inconclusive', `a weak upward trend (p >= ${o.alpha}) that may be noise: ${stats}`)
    : result('inconclusive', `a significant upward trend whose 95% CI reaches the ${floor} B/op floor: ${stats}`)
}
