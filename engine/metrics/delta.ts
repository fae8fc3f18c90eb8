// What a worker ships to the main thread every tick: only what changed since the last tick.
import type { CheckFailureSample } from './check-samples.js'
import type { FoldedNames } from './name-cap.js'
import type { OutcomeMarkTuple } from './outcome-marks.js'
import type { CustomMetricDefinition } from './custom.js'

export interface MetricsDelta {
  counters: Record<string, number>
  /** [passes, fails] */
  rates: Record<string, [number, number]>
  /** encoded HDR histograms of microseconds */
  trends: Record<string, string>
  gauges: Record<string, number>
  /** request names this worker folded into `(other)` since the last tick */
  folded?: FoldedNames
  /** values of other tags (`flow`, `group` ...) this worker folded into `(other)` since the last tick */
  foldedTags?: Record<string, FoldedNames>
  /** where checks failed for the first time in this worker, since the last tick */
  checkSamples?: CheckFailureSample[]
  /** when HTTP requests of this tick first succeeded and failed (epoch ms; see outcome-marks.ts) */
  outcomes?: OutcomeMarkTuple
  /** custom gauges set since the last tick: [last, min, max] */
  customGauges?: Record<string, [number, number, number]>
  /** custom metrics this worker used (or declared) for the first time since the last tick */
  customMetrics?: Record<string, CustomMetricDefinition>
}
