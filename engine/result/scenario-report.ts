// A plan of several scenarios: what each one did, beside the run's overall figures.
import type { ExecutorName, ProfilePoint } from './executor-report.js'
import type { MetricSummary } from './metric-summary.js'
import type { ThresholdResult } from './threshold-result.js'

export interface ScenarioReport {
  /** the scenario module the entry runs: its name and what was given */
  scenario: { name: string, source: string }
  /** the entry's executor, its parameters and planned profile (ms since the entry's own start) */
  executor: { name: ExecutorName, model: 'closed' | 'open', profile: ProfilePoint[] } & Record<string, unknown>
  /** the entry's load began this long after the start barrier */
  startTimeMs: number
  tags: Record<string, string>
  users: { planned: number, allocated: number, peakActive: number, completed: number, lost: number, interrupted: number }
  /** totals of this scenario's metrics, as the run's `metrics` (counter rates over its own load time) */
  metrics: Record<string, MetricSummary>
  /** iterations completed (the `iterations` counter) */
  iterations: number
  /** setup, iteration and teardown errors (the `errors` counter) */
  errors: number
  checks: { passes: number, fails: number }
  /** the run's thresholds on `{scenario:<this one>}` keys */
  thresholds: ThresholdResult[]
  /** failed when one of its thresholds failed */
  status: 'passed' | 'failed'
}
