// A shard's part of a run (--shard) as its report.json carries it: where it sits among the
// shards, which users it ran, and the encoded histograms `crosstalk merge` needs to give the
// percentiles one process would have given (summaries cannot be merged; HDR histograms can).

export interface ShardReport {
  /** 0-based */
  index: number
  count: number
  /** the run's user ids this shard ran, [from, to): one range per plan entry (one for a single scenario) */
  users: Array<{ scenario?: string, from: number, to: number }>
  /** epoch ms when this shard's load phase started (with a coordinated start, the same on every shard) */
  loadStartedAtEpochMs: number
  /**
   * every trend key's HDR histogram (microseconds, or a custom trend's own units; hdr-histogram-js
   * compressed base64): run totals, per second of timeSeries (by its `t`), and each plan entry's totals
   */
  histograms: {
    totals: Record<string, string>
    seconds: Array<{ t: number, trends: Record<string, string> }>
    scenarios?: Record<string, Record<string, string>>
  }
}

/** What a merged report (`crosstalk merge`) says of the shards it was made from. */
export interface MergedFrom {
  shards: Array<{
    index: number
    /** where its report.json was read */
    report: string
    startedAt: string
    status: string
    users: number
    /** its load started this long after the earliest shard's */
    startOffsetMs: number
    /** its leak verdict, when it read the target's heap */
    leak?: { verdict: string, reason: string, target: string }
  }>
}
