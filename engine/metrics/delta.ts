// What a worker ships to the main thread every tick: only what changed since the last tick.

export interface MetricsDelta {
  counters: Record<string, number>
  /** [passes, fails] */
  rates: Record<string, [number, number]>
  /** encoded HDR histograms of microseconds */
  trends: Record<string, string>
  gauges: Record<string, number>
}
