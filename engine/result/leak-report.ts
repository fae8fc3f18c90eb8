// The leak section of a report: heap readings between GC cycles, the trend verdict, suspects.

export interface HeapSample {
  /** completed operations (requests) when the sample was taken */
  ops: number
  /** bytes used on the heap after a full GC (plus external and array buffers) */
  usedBytes: number
  /** ms since the run started */
  at: number
  /** used bytes just before the forced GC (heapUsed + external): what the GC recovered is beforeGcBytes - usedBytes */
  beforeGcBytes?: number
  /** taken with new iterations held and none in flight (a quiet reading); false: under load, or the drain wait ran out */
  quiet?: boolean
  /** iterations still in flight when the heap was read (quiet readings: 0 unless the drain wait ran out) */
  inFlight?: number
  /** how long the load was held for this reading, ms (0: not held) */
  pauseMs?: number
  /** of pauseMs, how long the iterations in flight took to end (the server still busy with them) */
  drainMs?: number
}

/** How the readings were taken and what the pauses cost. */
export interface LeakReadings {
  /** 'quiet': each reading holds new iterations and waits for those in flight; 'under-load': read as the load runs */
  mode: 'quiet' | 'under-load'
  /** how the cadence (everyOps, everyMs) was chosen */
  cadence: string
  /** readings taken with nothing in flight */
  quiet: number
  /** readings whose drain wait ran out (read anyway, marked not quiet) */
  notQuiet: number
  /** total ms the load was held */
  pausedMs: number
  /** the longest hold, ms */
  maxPauseMs: number
  /** the load phase's length, ms */
  loadMs: number
  /** pausedMs / loadMs: the share of the load's time no new iteration could start */
  heldShare: number
  /** of pausedMs, the time with nothing in flight (GC, reading, release): the server had no work, ms */
  idleMs: number
  /**
   * idleMs / loadMs: the share of the load the server had no work. Not the whole cost: a forced
   * full GC leaves a server slower for a while after it (at 1000 users, ~0.3 s at about half its
   * rate), which readings under load pay as well; benchmarks/RESULTS.md measures requests/s with
   * and without readings.
   */
  throughputCost: number
  /** how each reading collected: the target's own gc() (one full mark-compact) or the inspector's HeapProfiler.collectGarbage (why: the report's note) */
  collector?: 'gc' | 'inspector'
}

/** The seed figures: growth per 1K operations, what a forced GC recovers, the heap's peak and end. */
export interface LeakFigures {
  /** Theil-Sen slope over the steady window x 1000, with its 95% CI, bytes */
  growthPer1kOps: { bytes: number, ciLow: number, ciHigh: number }
  /** per forced GC, bytes recovered / bytes before, over the readings that have both (null: none) */
  gcEffectiveness: { median: number, min: number, max: number, readings: number } | null
  /** the largest used heap after a forced GC, bytes */
  peakBytes: number
  /** the last reading's used heap, bytes */
  finalBytes: number
  /** standard deviation of the steady window's readings around their Theil-Sen line, bytes: the readings' noise */
  noiseBytes: number
}

export type LeakVerdict = 'leak' | 'no-leak' | 'inconclusive'

export interface TrendResult {
  verdict: LeakVerdict
  /** why, in one human sentence (e.g. 'slope 215 B/op (95% CI 180..250), Mann-Kendall p=3e-5 in the steady window') */
  reason: string
  /** Theil-Sen slope over the steady window, bytes per operation */
  bytesPerOp: number
  /** two-sided 95% confidence bounds of that slope (Sen 1968 / Kendall-based ranks) */
  ciLow: number
  ciHigh: number
  /** one-sided Mann-Kendall p-value for an increasing trend (normal approximation with tie correction; exact enough for n >= 8) */
  pValue: number
  /** bytesPerOp * 1e6 / 2^20 */
  mbPerMillionOps: number
  /** index range [from, to) of the samples that formed the steady window */
  window: { from: number, to: number }
  /**
   * true when the first half of the window grew above the floor and the second half's 95% interval
   * lies wholly under the floor or under a quarter of the first half's lower bound (a cache that filled and stopped)
   */
  flattening: boolean
  /** Theil-Sen slope and 95% interval of each half of the steady window (B/op): what the flattening rule compares */
  halves: { first: SlopeInterval, second: SlopeInterval }
}

/** A slope with its two-sided 95% confidence bounds, bytes per operation. */
export interface SlopeInterval {
  slope: number
  low: number
  high: number
}

export interface LeakSuspect {
  /** allocating function or constructor */
  name: string
  site?: string
  /** live bytes added over the steady window */
  bytesDelta: number
  bytesPerOp: number
  countDelta?: number
}

export interface LeakReport extends Omit<TrendResult, 'window'> {
  backend: string
  note?: string
  /** readings at least this many operations apart (for a time-bound load, the floor of 200) */
  everyOps: number
  /** and at least this many ms apart, start to start (a time-bound load: planned duration / 30) */
  everyMs: number
  readings: LeakReadings
  figures: LeakFigures
  samples: HeapSample[]
  suspects: LeakSuspect[]
  cpuProfile?: string
  snapshots?: string[]
  /** what the heap kept between GC cycles, by class, with retainer paths (leaks.diff) */
  diff?: HeapDiffReport
}

/** One class of objects a heap diff found kept (allocated in the diff's window, alive at its end). */
export interface HeapDiffGroup {
  /** constructor name, `fn()` for closures, `(string)`, `(array)`, `(system)`... */
  name: string
  /** objects kept (memwatch: net change of the count) */
  count: number
  /** their own (shallow) size, bytes */
  bytes: number
  /** bytes kept per 1000 operations of the diff's window */
  perKOps: number
  /** the dominant chain of references from a GC root to one of them (snapshots only) */
  retainerPath?: string[]
}

export interface HeapDiffReport {
  /** snapshots: baseline/target/final heap snapshots diffed by object id; memwatch: @airbnb/node-memwatch HeapDiff (in-process, main thread) */
  backend: 'snapshots' | 'memwatch'
  groups: HeapDiffGroup[]
  /** operations between the diff's first and second point (the per-1K-ops denominator) */
  ops?: number
  /** why there is no diff or what limits it (skipped for memory, no leak flagged...) */
  note?: string
  /** how long the target was paused by the diff's snapshots in all, ms */
  pauseMs?: number
  /** analysis time of the snapshots, ms */
  analysisMs?: number
}
