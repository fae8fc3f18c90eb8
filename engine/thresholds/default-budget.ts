// The failure budget every run has unless the user set their own: a run whose requests mostly fail
// must not pass just because nobody wrote a threshold. Any threshold of the run on
// http.req.failed (tagged or not) replaces it.
import { METRICS } from '../metrics/index.js'
import { compileThresholds, type Threshold } from './compile.js'

export const DEFAULT_FAILED_BUDGET = { metric: METRICS.httpReqFailed, expression: 'rate<0.05' } as const

/** `thresholds` with the default budget appended (marked `default`), unless one of them is on http.req.failed. */
export function withDefaultBudget (thresholds: readonly Threshold[]): Threshold[] {
  if (thresholds.some(t => t.metric === DEFAULT_FAILED_BUDGET.metric)) return [...thresholds]
  const budget = compileThresholds({ [DEFAULT_FAILED_BUDGET.metric]: DEFAULT_FAILED_BUDGET.expression })
  return [...thresholds, ...budget.map(t => ({ ...t, default: true as const }))]
}
