// One threshold as evaluated at the end of a run.

export interface ThresholdResult {
  /** the full metric key */
  metric: string
  expression: string
  /** null when the metric has no data (the threshold then fails) */
  value: number | null
  passed: boolean
  abortOnFail: boolean
  /** crosstalk's own budget, applied because no threshold of the run was on this metric */
  default?: true
}
