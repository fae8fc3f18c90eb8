// A window in which the target failed, as report.json's `outages` list tells it. Times are ms
// since the run started: the clock of `timeSeries[].t` (in seconds there).

export interface Outage {
  /** the first failed request of the window (where the trailing failure streak began) */
  startMs: number
  /**
   * the first successful request after it: the target's return as the load saw it; the load's
   * end when the target never came back (`ended` false)
   */
  endMs: number
  durationMs: number
  /** from `startMs` to the end of the first second judged failed, when the detector knew */
  detectMs: number
  /**
   * from `endMs` to the first second whose successful requests reached 90% of the pre-outage
   * median (that second's start, or `endMs` when the second it returned in already did);
   * null: not within the load
   */
  recoveryMs: number | null
  /** failed requests in the seconds it spans */
  failedRequests: number
  /** false: still failing when the load ended */
  ended: boolean
  /** the first and last `timeSeries[].t` judged failed */
  seconds: [number, number]
  /** the throughput it had to get back to: the median of successful requests per second before it */
  baselineRps: number
}

/** How outages are told from noise. */
export const OUTAGE_RULES = {
  /** a second is failed when more than this share of its requests failed, or none succeeded */
  failShare: 0.5,
  /** recovered: successful requests per second back at this share of the pre-outage median */
  recoveryShare: 0.9
} as const
