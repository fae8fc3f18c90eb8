// The leak section of a report: heap readings between GC cycles, the trend verdict, suspects.

export interface HeapSample {
  /** completed operations (requests) when the sample was taken */
  ops: number
  /** bytes used on the heap after a full GC (plus external and array buffers) */
  usedBytes: number
  /** ms since the run started */
  at: number
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
  /** true when the growth in the second half of the window is much lower than in the first half (a cache that filled and stopped) */
  flattening: boolean
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
  everyOps: number
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
