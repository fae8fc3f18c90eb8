// Two-sided quantiles of Student's t (integer degrees of freedom) and of the normal
// distribution: how much a bootstrap interval over few rounds must be widened.

/** P(|T| <= t) for Student's t with `df` (an integer >= 1) degrees of freedom, in closed form. */
export function tCentralProbability (t: number, df: number): number {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df))
  const c2 = Math.cos(theta) ** 2
  const s = Math.sin(theta)
  if (df % 2 === 0) {
    // sin θ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + ...), up to cos^(df-2)θ
    let term = 1
    let sum = 1
    for (let k = 2; k <= df - 2; k += 2) {
      term *= c2 * (k - 1) / k
      sum += term
    }
    return s * sum
  }
  // (2/π)(θ + sin θ cos θ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + ...)), up to cos^(df-3)θ
  if (df === 1) return 2 * theta / Math.PI
  let term = 1
  let sum = 1
  for (let k = 3; k <= df - 2; k += 2) {
    term *= c2 * (k - 1) / k
    sum += term
  }
  return 2 / Math.PI * (theta + s * Math.cos(theta) * sum)
}

/** P(|Z| <= z) for the standard normal: erf(z / √2) (Abramowitz and Stegun 7.1.26, error < 2e-7). */
export function normalCentralProbability (z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const k = 1 / (1 + 0.3275911 * x)
  const poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))
  return 1 - poly * Math.exp(-x * x)
}

/** the q > 0 with centralProbability(q) = confidence, by bisection (both are increasing in q) */
function invert (centralProbability: (q: number) => number, confidence: number): number {
  let lo = 0
  let hi = 1
  while (centralProbability(hi) < confidence) hi *= 2
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (centralProbability(mid) < confidence) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** t such that P(|T| <= t) = confidence, T with `df` degrees of freedom */
export function tQuantile (confidence: number, df: number): number {
  return invert(t => tCentralProbability(t, df), confidence)
}

/** z such that P(|Z| <= z) = confidence */
export function normalQuantile (confidence: number): number {
  return invert(normalCentralProbability, confidence)
}
