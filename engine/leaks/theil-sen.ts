// Theil-Sen slope with Sen's distribution-free confidence interval: robust to the GC noise and the
// odd outlier in heap readings, where a least-squares slope would be dragged around.
import { assertFiniteSeries, kendallVariance, normalQuantile } from './mann-kendall.js'

export interface TheilSenResult {
  /** median of the pairwise slopes */
  slope: number
  /** lower confidence bound of the slope */
  low: number
  /** upper confidence bound of the slope */
  high: number
}

/**
 * Theil (1950) / Sen (1968) estimator, interval as in Gilbert 1987 §16.5:
 * slopes Q = (y_j - y_i)/(x_j - x_i) for all i < j with x_i ≠ x_j (equal x carry no slope), sorted;
 * slope = median(Q). With N slopes and C = Z_{1-α/2}·√Var(S), where Var(S) is Kendall's variance
 * of the x values with ties corrected (Sen 1968 allows tied x), the bounds are the ordered slopes of
 * rank M1 = (N - C)/2 and M2 + 1 = (N + C)/2 + 1 (1-based, linearly interpolated, clamped to 1..N).
 * O(n²) time and memory: meant for the tens to hundreds of post-GC samples a run takes.
 * No usable pair (n < 2, or all x equal) gives 0 for all three rather than NaN.
 */
export function theilSen (xs: number[], ys: number[], confidence = 0.95): TheilSenResult {
  if (xs.length !== ys.length) throw new RangeError(`theilSen: ${xs.length} x values but ${ys.length} y values`)
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`theilSen: confidence must be in (0, 1), got ${confidence}`)
  assertFiniteSeries(xs, 'xs')
  assertFiniteSeries(ys, 'ys')
  const n = xs.length
  const all = new Float64Array(n * (n - 1) / 2)
  let m = 0
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xs[i]!
      if (dx !== 0) all[m++] = (ys[j]! - ys[i]!) / dx
    }
  }
  if (m === 0) return { slope: 0, low: 0, high: 0 }
  const q = all.subarray(0, m).sort()
  const c = normalQuantile((1 + confidence) / 2) * Math.sqrt(kendallVariance(xs))
  return {
    slope: atRank(q, (m + 1) / 2),
    low: atRank(q, (m - c) / 2),
    high: atRank(q, (m + c) / 2 + 1)
  }
}

/** Value at a 1-based fractional rank of a sorted array, interpolating between neighbours. */
function atRank (sorted: Float64Array, rank: number): number {
  const r = Math.min(Math.max(rank, 1), sorted.length) - 1
  const i = Math.floor(r)
  const frac = r - i
  if (frac === 0) return sorted[i]!
  return sorted[i]! + frac * (sorted[i + 1]! - sorted[i]!)
}
