// Hierarchical bootstrap paired by round: resample rounds (baseline and candidate together, so
// drift between rounds cancels), then windows within each drawn round; percentile intervals.
import { ConfigError } from '../errors.js'
import type { Statistic } from './compared-metrics.js'
import { mulberry32, randomIndex } from './prng.js'

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
  /** candidate - baseline */
  diff: number
  diffCI: [number, number]
  /**
   * diff / |baseline|; ±Infinity when the baseline statistic is 0 and the candidate's is not
   * (0 when both are)
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

/**
 * Hierarchical paired bootstrap of S(candidate) - S(baseline), S the statistic over the pooled
 * values of all rounds. Each resample draws as many round indices as there are rounds, with
 * replacement and the same index for both sides; within each drawn round it draws that round's
 * baseline values and candidate values with replacement; then pools and takes the difference.
 * With one round this is plain resampling of the values.
 */
export function bootstrapRounds (rounds: readonly RoundSamples[], options: BootstrapOptions = {}): BootstrapResult {
  const o = resolve(options)
  const used = rounds.filter(r => r.baseline.length > 0 && r.candidate.length > 0)
  if (used.length === 0) throw new RangeError('bootstrapRounds: no round has values on both sides')
  const baseline = summarize(o.statistic, Float64Array.from(used.flatMap(r => r.baseline)))
  const candidate = summarize(o.statistic, Float64Array.from(used.flatMap(r => r.candidate)))
  const diff = candidate - baseline

  const random = mulberry32(o.seed)
  const n = used.length
  const poolB = new Float64Array(n * Math.max(...used.map(r => r.baseline.length)))
  const poolC = new Float64Array(n * Math.max(...used.map(r => r.candidate.length)))
  const diffs = new Float64Array(o.resamples)
  const relatives = new Float64Array(o.resamples)
  for (let k = 0; k < o.resamples; k++) {
    let nb = 0
    let nc = 0
    for (let j = 0; j < n; j++) {
      const r = used[randomIndex(random, n)]!
      const b = r.baseline
      const c = r.candidate
      for (let i = 0; i < b.length; i++) poolB[nb++] = b[randomIndex(random, b.length)]!
      for (let i = 0; i < c.length; i++) poolC[nc++] = c[randomIndex(random, c.length)]!
    }
    const sb = summarize(o.statistic, poolB.subarray(0, nb))
    const sc = summarize(o.statistic, poolC.subarray(0, nc))
    diffs[k] = sc - sb
    relatives[k] = relativeChange(sc - sb, sb)
  }
  return result(baseline, candidate, diff, diffs, relatives, n, o)
}

/** One value per run and side, paired by round (e.g. a heap slope). */
export interface PairedValue {
  baseline: number
  candidate: number
}

/**
 * Paired bootstrap over rounds of the mean difference: resample the pairs with replacement,
 * take mean(candidate - baseline). Pairs with a non-finite value are left out.
 */
export function bootstrapPairedMean (pairs: readonly PairedValue[], options: BootstrapOptions = {}): BootstrapResult {
  const o = resolve(options)
  const used = pairs.filter(p => Number.isFinite(p.baseline) && Number.isFinite(p.candidate))
  if (used.length === 0) throw new RangeError('bootstrapPairedMean: no pair of finite values')
  const n = used.length
  const baseline = mean(used.map(p => p.baseline))
  const candidate = mean(used.map(p => p.candidate))
  const diff = mean(used.map(p => p.candidate - p.baseline))
  const random = mulberry32(o.seed)
  const diffs = new Float64Array(o.resamples)
  const relatives = new Float64Array(o.resamples)
  for (let k = 0; k < o.resamples; k++) {
    let sumB = 0
    let sumD = 0
    for (let j = 0; j < n; j++) {
      const p = used[randomIndex(random, n)]!
      sumB += p.baseline
      sumD += p.candidate - p.baseline
    }
    diffs[k] = sumD / n
    relatives[k] = relativeChange(sumD / n, sumB / n)
  }
  return result(baseline, candidate, diff, diffs, relatives, n, o)
}

/** The point estimates and the percentile intervals of the resampled differences. */
function result (baseline: number, candidate: number, diff: number, diffs: Float64Array, relatives: Float64Array, rounds: number, o: Required<BootstrapOptions>): BootstrapResult {
  diffs.sort()
  relatives.sort()
  return {
    baseline,
    candidate,
    diff,
    diffCI: interval(diffs, o.confidence),
    relative: relativeChange(diff, baseline),
    relativeCI: interval(relatives, o.confidence),
    rounds,
    resamples: o.resamples
  }
}
