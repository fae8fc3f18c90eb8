// The leak verdict rules, all in one place. They take the evidence computed in trend.ts and never
// let a verdict contradict it: 'no-leak' needs the evidence to bound the growth under the floor,
// 'leak' needs it to put the growth above, and noisy readings leave the verdict 'inconclusive'
// with a reason that says what would decide it.
import type { LeakVerdict, SlopeInterval } from '../result/index.js'

/** What the readings of the steady window show (all slopes in bytes per operation, 95% intervals). */
export interface TrendEvidence {
  /** Theil-Sen slope of the whole steady window */
  fit: SlopeInterval
  /** one-sided Mann-Kendall p-value for an increasing trend over the window */
  p: number
  /** the same fit on each half of the window (for odd sizes the middle reading is in the second) */
  first: SlopeInterval
  second: SlopeInterval
  floor: number
  alpha: number
  /** readings in the steady window, and which samples they are ('samples 20..39') */
  readings: number
  span: string
}

/** Above this p-value there is no evidence of growth at all (looser than alpha on purpose: between the two is 'inconclusive'). */
export const NO_TREND_P = 0.05

/** The second half growing at under this share of the first half's rate, surely, counts as a slowdown. */
export const FLATTENING_RATIO = 0.25

/**
 * The second half of the window grows far slower than the first, beyond the noise: its 95%
 * interval lies wholly under the floor, or wholly under a quarter of the first half's lower bound.
 * Intervals, not point estimates: with noisy readings each half's slope wanders by hundreds of
 * B/op, and "the second slope is under a quarter of the first" fired on steady leaks (the issue's
 * 1000-user runs). Merely disjoint intervals are not enough either: a real leak's rate per
 * operation drifts (the fixture's map leak, in-process: 413 B/op (348..474) then 272 (205..335)),
 * while a cache that fills drops toward nothing.
 */
export function slowedDown (e: Pick<TrendEvidence, 'first' | 'second' | 'floor'>): boolean {
  return e.second.high < e.floor || e.second.high < FLATTENING_RATIO * e.first.low
}

/** A slowdown after a first half that grew above the floor: a cache that filled (report.json's `flattening`). */
export function isFlattening (e: Pick<TrendEvidence, 'first' | 'second' | 'floor'>): boolean {
  return e.first.slope > e.floor && slowedDown(e)
}

export function formatBytes (v: number): string {
  if (Math.abs(v) >= 100) return String(Math.round(v))
  return String(Number(v.toPrecision(3)))
}

export function formatP (p: number): string {
  if (p < 0.001) return p.toExponential(0)
  return String(Number(p.toPrecision(2)))
}

function interval (s: SlopeInterval): string {
  return `${formatBytes(s.slope)} B/op (95% CI ${formatBytes(s.low)}..${formatBytes(s.high)})`
}

/**
 * The verdict on enough readings with operations between them, by the first rule that applies:
 * 1. grows: Mann-Kendall p < alpha and the slope's whole 95% interval above the floor -
 *    'leak', unless the halves show a slowdown (slowedDown), then 'inconclusive' (a cache still
 *    filling or a leak that paused: a longer run tells). A significant trend wholly above the
 *    floor is never 'no-leak', whatever the halves show.
 * 2. stopped: the first half grew above the floor and the second half's interval lies wholly
 *    under it - 'no-leak' (a cache that filled).
 * 3. under the floor: the whole window's interval lies under the floor - 'no-leak'.
 * 4. latest half under the floor: the second half's interval lies under it - 'no-leak'.
 * 5. slowed but not under the floor: the second half's interval lies under a quarter of the first
 *    half's lower bound but reaches the floor - 'inconclusive'.
 * 6. no trend but too noisy: p >= 0.05 and the interval reaches above the floor - 'inconclusive':
 *    a leak as large as the interval's upper bound fits these readings, so they cannot rule one out.
 * 7. a weak trend (alpha <= p < 0.05), or a significant one whose interval reaches the floor - 'inconclusive'.
 * Every reason carries the slope, its interval, p, the floor and the readings (and the halves where they decide).
 */
export function decideVerdict (e: TrendEvidence): { verdict: LeakVerdict, reason: string } {
  const floor = `${formatBytes(e.floor)} B/op floor`
  const stats = `slope ${interval(e.fit)}, Mann-Kendall p=${formatP(e.p)} in the steady window (${e.readings} readings, ${e.span}); floor ${formatBytes(e.floor)} B/op`
  const halves = `first half ${interval(e.first)}, second half ${interval(e.second)}`
  const say = (verdict: LeakVerdict, lead: string): { verdict: LeakVerdict, reason: string } => ({ verdict, reason: `${lead}: ${stats}` })

  if (e.p < e.alpha && e.fit.low > e.floor) {
    if (slowedDown(e)) return say('inconclusive', `the heap grew (a significant trend, the whole interval above the floor) but the growth slowed between the halves of the window (${halves}): a cache still filling or a leak that paused; a longer run tells`)
    return say('leak', `heap grows steadily with load (${Number((e.fit.slope * 1e6 / 2 ** 20).toPrecision(3))} MB per million ops), the whole interval above the floor`)
  }
  if (isFlattening(e) && e.second.high < e.floor) return say('no-leak', `growth stopped under the floor (${halves}), like a cache that filled`)
  if (e.fit.high < e.floor) return say('no-leak', `growth is under the ${floor} (the whole interval below it)`)
  if (e.second.high < e.floor) return say('no-leak', `the second half of the window grows under the floor (${halves})`)
  if (slowedDown(e)) return say('inconclusive', `growth slowed between the halves of the window (${halves}) but may still be above the floor; a longer run tells`)
  if (e.p >= NO_TREND_P) return say('inconclusive', `no significant upward trend, but the readings are too noisy to rule out a leak of up to ${formatBytes(e.fit.high)} B/op; take more readings (a longer run) or quieter ones`)
  return e.p >= e.alpha
    ? say('inconclusive', `a weak upward trend (p >= ${e.alpha}) that may be noise`)
    : say('inconclusive', `a significant upward trend whose 95% CI reaches the floor`)
}
