// Mann-Kendall trend test and the normal-distribution helpers it (and Sen's interval) needs.
// Hand-written so the leak verdict has no dependency and its arithmetic can be read in one file.

export interface MannKendallResult {
  /** Kendall's S: concordant minus discordant pairs in time order */
  s: number
  /** continuity-corrected normal score of S */
  z: number
  /** one-sided p-value for an increasing trend */
  pIncreasing: number
}

/** Throws when a series holds NaN or ±Infinity: one bad reading would silently poison every pair. */
export function assertFiniteSeries (values: readonly number[], name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${name}[${i}] is ${values[i]}, expected a finite number`)
  }
}

/**
 * Variance of Kendall's S under the null hypothesis with the tie correction
 * (Kendall 1975; Gilbert 1987 eq. 16.4): [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18,
 * where t runs over the sizes of the groups of equal values.
 */
export function kendallVariance (values: readonly number[]): number {
  const n = values.length
  const sorted = Float64Array.from(values).sort()
  let ties = 0
  for (let i = 0; i < n;) {
    let j = i + 1
    while (j < n && sorted[j] === sorted[i]) j++
    const t = j - i
    ties += t * (t - 1) * (2 * t + 5)
    i = j
  }
  return (n * (n - 1) * (2 * n + 5) - ties) / 18
}

/**
 * Mann-Kendall test (Mann 1945; Kendall 1975) as given in Gilbert 1987 §16.4:
 * S = Σ_{i<j} sign(x_j - x_i); Z = (S - 1)/√Var(S) if S > 0, (S + 1)/√Var(S) if S < 0, else 0;
 * p(increasing) = 1 - Φ(Z). The normal approximation is adequate from about n = 8 on.
 * Series too short or too flat to have any variance (n < 2, all equal) give Z = 0, p = 0.5.
 */
export function mannKendall (values: number[]): MannKendallResult {
  assertFiniteSeries(values, 'values')
  const n = values.length
  let s = 0
  for (let i = 0; i < n - 1; i++) {
    const vi = values[i]!
    for (let j = i + 1; j < n; j++) {
      const d = values[j]! - vi
      if (d > 0) s++
      else if (d < 0) s--
    }
  }
  const variance = kendallVariance(values)
  let z = 0
  if (variance > 0 && s !== 0) z = (s - Math.sign(s)) / Math.sqrt(variance)
  return { s, z, pIncreasing: normalUpperTail(z) }
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI)

/**
 * Complementary error function to near double precision, so tiny p-values keep their digits:
 * below 2.5 the everywhere-positive series erf x = 2/√π·e^{-x²}·Σ 2^k x^{2k+1}/(2k+1)!!
 * (Abramowitz & Stegun 7.1.6); above it Laplace's continued fraction
 * erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (A&S 7.1.14), evaluated bottom-up.
 */
export function erfc (x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  if (x < 0) return 2 - erfc(-x)
  if (x < 2.5) {
    const x2 = x * x
    let term = x
    let sum = x
    for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
      term *= 2 * x2 / (2 * k + 1)
      sum += term
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-x2) * sum
  }
  if (x > 27) return 0 // e^{-x²} underflows
  let t = x
  for (let k = 100; k >= 1; k--) t = x + (k / 2) / t
  return ONE_OVER_SQRT_PI * Math.exp(-x * x) / t
}

/** Φ(z), the standard normal CDF. */
export function normalCdf (z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** 1 - Φ(z), computed directly so it does not round to 0 for large z. */
export function normalUpperTail (z: number): number {
  return 0.5 * erfc(z / Math.SQRT2)
}

/** Φ⁻¹(p) by bisection on normalCdf: slow-ish but exact to the last bits, and called rarely. */
export function normalQuantile (p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`)
  let lo = -40
  let hi = 40
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2
    if (mid === lo || mid === hi) break
    if (normalCdf(mid) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
