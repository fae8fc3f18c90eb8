// Bootstrap paired by round: each round's candidate is measured against its own baseline (a
// ratio, a difference), so drift between rounds cancels; resample rounds (the windows of a
// single round); percentile intervals widened for few rounds.
import { ConfigError } from '../errors.js'
import type { Statistic } from './compared-metrics.js'
import { mulberry32, randomIndex } from './prng.js'
import { normalQuantile, tQuantile } from './student-t.js'

export const DEFAULT_RESAMPLES = 2000
export const DEFAULT_CONFIDENCE = 0.95
export const DEFAULT_SEED = 0x5eed

export interface BootstrapOptions {
  /** number of bootstrap resamples (default 2000) */
  resamples?: number
  /** two-sided confidence of the percentile intervals (default 0.95) */
  confidence?: number
  /** PRNG seed: the same seed and data give the same intervals */
  seed?: number
  /** how one side's pooled values are summarized (default median) */
  statistic?: Statistic
}

/** One round's values of one metric: a baseline run and a candidate run adjacent in time. */
export interface RoundSamples {
  baseline: readonly number[]
  candidate: readonly number[]
}

export interface BootstrapResult {
  /** the statistic over all of the baseline's values */
  baseline: number
  candidate: number
  /** candidate - baseline: the mean of the per-round differences */
  diff: number
  diffCI: [number, number]
  /**
   * the relative change: the geometric mean of the per-round candidate/baseline ratios minus 1
   * when every value is positive, else diff / |baseline| (±Infinity when the baseline is 0 and
   * the candidate is not, 0 when both are)
   */
  relative: number
  relativeCI: [number, number]
  /** rounds that had values on both sides (the others are left out) */
  rounds: number
  resamples: number
}

/** Problems with bootstrap options, one per line (empty when valid). */
export function bootstrapOptionProblems (o: BootstrapOptions): string[] {
  const problems: string[] = []
  if (o.resamples !== undefined && !(Number.isInteger(o.resamples) && o.resamples >= 1)) problems.push(`resamples must be an integer >= 1, got ${o.resamples}`)
  if (o.confidence !== undefined && !(o.confidence > 0 && o.confidence < 1)) problems.push(`confidence must be in (0, 1), got ${o.confidence}`)
  if (o.seed !== undefined && !Number.isFinite(o.seed)) problems.push(`seed must be a finite number, got ${o.seed}`)
  return problems
}

function resolve (o: BootstrapOptions): Required<BootstrapOptions> {
  const problems = bootstrapOptionProblems(o)
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    resamples: o.resamples ?? DEFAULT_RESAMPLES,
    confidence: o.confidence ?? DEFAULT_CONFIDENCE,
    seed: o.seed ?? DEFAULT_SEED,
    statistic: o.statistic ?? 'median'
  }
}

/** Linear interpolation between closest ranks (type 7) on sorted values. */
export function quantileSorted (sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const h = (n - 1) * Math.min(1, Math.max(0, q))
  const i = Math.floor(h)
  const f = h - i
  const a = sorted[i]!
  const b = sorted[Math.min(i + 1, n - 1)]!
  if (f === 0 || a === b) return a
  // infinite relative changes (baseline statistic 0): no interpolation, the nearer rank
  if (!Number.isFinite(a) || !Number.isFinite(b)) return f < 0.5 ? a : b
  return a + (b - a) * f
}

/** Sorts `values` in place and returns its median. */
function medianInPlace (values: Float64Array): number {
  values.sort()
  return quantileSorted(values, 0.5)
}

function mean (values: ArrayLike<number>): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return sum / values.length
}

export function median (values: readonly number[]): number {
  return medianInPlace(Float64Array.from(values))
}

function summarize (statistic: Statistic, values: Float64Array): number {
  return statistic === 'mean' ? mean(values) : medianInPlace(values)
}

/** diff / |base|, with a defined value when the base is 0. */
export function relativeChange (diff: number, base: number): number {
  if (base === 0) return diff === 0 ? 0 : Math.sign(diff) * Infinity
  return diff / Math.abs(base)
}

function interval (sorted: Float64Array, confidence: number): [number, number] {
  const alpha = 1 - confidence
  return [quantileSorted(sorted, alpha / 2), quantileSorted(sorted, 1 - alpha / 2)]
}

/** One round's statistic on each side (S over that run's windows). */
interface RoundPair { sb: number, sc: number }

/**
 * The change over rounds: the mean of the per-round differences, and the geometric mean of the
 * per-round ratios minus 1 (or, when ratios are undefined, the mean difference over the mean
 * baseline). Rounds are adjacent in time, so whatever slowed the machine during a round falls on
 * both of its runs and cancels in its ratio.
 */
function change (pairs: readonly RoundPair[], ratios: boolean): [number, number] {
  let sumDiff = 0
  let sumLogRatio = 0
  let sumBaseline = 0
  for (const { sb, sc } of pairs) {
    sumDiff += sc - sb
    sumBaseline += sb
    if (ratios) sumLogRatio += Math.log(sc / sb)
  }
  const n = pairs.length
  return [sumDiff / n, ratios ? Math.expm1(sumLogRatio / n) : relativeChange(sumDiff / n, sumBaseline / n)]
}

/** draws `values.length` of `values` with replacement into `into` and summarizes them */
function resampled (values: readonly number[], into: Float64Array, statistic: Statistic, random: () => number): number {
  for (let i = 0; i < values.length; i++) into[i] = values[randomIndex(random, values.length)]!
  return summarize(statistic, into.subarray(0, values.length))
}

/**
 * A percentile bootstrap over n rounds is too narrow when rounds are few: it spreads like a
 * variance with divisor n, not n - 1, and like a normal where the mean of n rounds follows
 * Student's t with n - 1 degrees of freedom (5 rounds cover a 95% interval's target about 85% of
 * the time). Each resample's distance from the estimate is stretched by
 * sqrt(n / (n - 1)) * t(n - 1) / z (the expanded percentile interval; in log terms for ratios).
 */
function widen (values: Float64Array, estimate: number, n: number, ratios: boolean, confidence: number): void {
  if (n < 2 || !Number.isFinite(estimate)) return
  const f = Math.sqrt(n / (n - 1)) * tQuantile(confidence, n - 1) / normalQuantile(confidence)
  const at = ratios ? Math.log1p(estimate) : estimate
  for (let k = 0; k < values.length; k++) {
    const v = ratios ? Math.log1p(values[k]!) : values[k]!
    const stretched = at + f * (v - at)
    values[k] = ratios ? Math.expm1(stretched) : stretched
  }
}

/**
 * Paired per-round bootstrap. Each round gives S(candidate) and S(baseline), S the statistic over
 * that round's values; the change is the mean of the per-round differences, and the relative
 * change the geometric mean of the per-round ratios minus 1 (when a value is 0 or below, ratios
 * are undefined and it is the mean difference over the mean baseline instead). With two rounds or
 * more, each resample draws as many rounds as there are, with replacement: a round's own value
 * already carries the noise of its windows, so resampling the windows too would count it twice.
 * With one round there is no spread between rounds, and its windows are resampled instead.
 */
export function bootstrapRounds (rounds: readonly RoundSamples[], options: BootstrapOptions = {}): BootstrapResult {
  const o = resolve(options)
  const used = rounds.filter(r => r.baseline.length > 0 && r.candidate.length > 0)
  if (used.length === 0) throw new RangeError('bootstrapRounds: no round has values on both sides')
  const n = used.length
  const ratios = used.every(r => r.baseline.every(v => v > 0) && r.candidate.every(v => v > 0))
  const pairs = used.map(r => ({ sb: summarize(o.statistic, Float64Array.from(r.baseline)), sc: summarize(o.statistic, Float64Array.from(r.candidate)) }))
  const [diff, relative] = change(pairs, ratios)

  const random = mulberry32(o.seed)
  const only = used[0]!
  const bufferB = new Float64Array(only.baseline.length)
  const bufferC = new Float64Array(only.candidate.length)
  const draw: RoundPair[] = new Array<RoundPair>(n)
  const diffs = new Float64Array(o.resamples)
  const relatives = new Float64Array(o.resamples)
  for (let k = 0; k < o.resamples; k++) {
    if (n === 1) draw[0] = { sb: resampled(only.baseline, bufferB, o.statistic, random), sc: resampled(only.candidate, bufferC, o.statistic, random) }
    else for (let j = 0; j < n; j++) draw[j] = pairs[randomIndex(random, n)]!
    ;[diffs[k], relatives[k]] = change(draw, ratios)
  }
  widen(diffs, diff, n, false, o.confidence)
  widen(relatives, relative, n, ratios, o.confidence)
  const baseline = summarize(o.statistic, Float64Array.from(used.flatMap(r => r.baseline)))
  const candidate = summarize(o.statistic, Float64Array.from(used.flatMap(r => r.candidate)))
  return result(baseline, candidate, diff, diffs, relatives, n, o, relative)
}

/** The point estimates and the percentile intervals of the resampled differences. */
function result (baseline: number, candidate: number, diff: number, diffs: Float64Array, relatives: Float64Array, rounds: number, o: Required<BootstrapOptions>, relative = relativeChange(diff, baseline)): BootstrapResult {
  diffs.sort()
  relatives.sort()
  return {
    baseline,
    candidate,
    diff,
    diffCI: interval(diffs, o.confidence),
    relative,
    relativeCI: interval(relatives, o.confidence),
    rounds,
    resamples: o.resamples
  }
}
