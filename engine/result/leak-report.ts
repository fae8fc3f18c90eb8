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
  everyOps: number
  samples: HeapSample[]
  suspects: LeakSuspect[]
  cpuProfile?: string
  snapshots?: string[]
}
