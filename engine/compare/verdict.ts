// Verdict of one metric from its confidence interval and budget.
import type { Budget } from './budget.js'

export type MetricVerdict = 'regressed' | 'within' | 'inconclusive'
export type ChangeDirection = 'better' | 'worse' | 'same'
export type OverallVerdict = 'pass' | 'fail' | 'inconclusive'

/**
 * `ci` is the interval of the change in the budget's terms (relative or absolute), `worse` the
 * sign of a change for the worse. 'regressed' when the whole interval lies beyond the budget in
 * the worse direction, 'within' when the whole interval lies within it, else 'inconclusive'.
 */
export function judgeInterval (ci: readonly [number, number], budget: Pick<Budget, 'amount'>, worse: 1 | -1): MetricVerdict {
  if (Number.isNaN(ci[0]) || Number.isNaN(ci[1])) return 'inconclusive'
  // the interval turned so that larger is worse
  const lo = Math.min(ci[0] * worse, ci[1] * worse)
  const hi = Math.max(ci[0] * worse, ci[1] * worse)
  if (lo > budget.amount) return 'regressed'
  if (hi <= budget.amount) return 'within'
  return 'inconclusive'
}

/** The interval excludes 0. */
export function isSignificant (ci: readonly [number, number]): boolean {
  return ci[0] > 0 || ci[1] < 0
}

export function changeDirection (diff: number, worse: 1 | -1): ChangeDirection {
  if (diff === 0 || Number.isNaN(diff)) return 'same'
  return diff * worse > 0 ? 'worse' : 'better'
}
