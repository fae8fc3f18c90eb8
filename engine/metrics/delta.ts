// What a worker ships to the main thread every tick: only what changed since the last tick.

export interface MetricsDelta {
  counters: Record<string, number>
  /** [passes, fails] */
  rates: Record<string, [number, number]>
  /** encoded HDR histograms of microseconds */
  trends: Record<string, string>
  gauges: Record<string, number>
}

export function isEmptyDelta (d: MetricsDelta): boolean {
  for (const _ in d.counters) return false
  for (const _ in d.rates) return false
  for (const _ in d.trends) return false
  for (const _ in d.gauges) return false
  return true
}
