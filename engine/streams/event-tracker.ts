// Per-socket event stream accounting: per-event latency from the server's send stamp, and per
// stream the gaps (lost), repeats (duplicated) and late arrivals (reordered). Where the events
// come from is the caller's business: the scenario's extractors (any server), or crosstalk's
// opt-in stream protocol, whose server also declares at the end what it assigned, so loss can
// be reconciled with it instead of being read from the gaps alone.
import { METRICS, recordValueFast, type CounterCell, type Histogram, type MetricsRecorder } from '../metrics/index.js'

/** Gaps larger than this are counted, not enumerated (memory stays bounded). */
const MAX_TRACKED_GAP = 10_000

interface StreamState {
  firstSeen: number
  maxSeq: number
  /** seqs skipped so far that may still arrive late */
  missing: Set<number>
  /** gap seqs too many to track one by one: definitely counted as lost */
  untracked: number
}

export interface StreamRange { first: number, last: number }

export interface StreamTotals {
  /** what the server says it assigned (sent, dropped or shed), per its end reply */
  sent: number
  lost: number
  /** streams whose server never answered `end`: their loss counts only the gaps seen */
  unreconciled: number
}

// performance.now() and process.hrtime() both read the monotonic clock (uv_hrtime): one offset,
// taken once per thread, turns the cheap one into the other without allocating per event.
const HRTIME_OFFSET_US = ((): number => {
  const [s, ns] = process.hrtime()
  return s * 1e6 + ns / 1e3 - performance.now() * 1000
})()

/** Microseconds on the monotonic clock (comparable with the server's `t` on one machine). */
export function monotonicMicros (): number {
  return performance.now() * 1000 + HRTIME_OFFSET_US
}

/** An epoch time in milliseconds (a server's Date.now()) on the same monotonic microsecond scale. */
export function epochMsToMonotonicMicros (epochMs: number): number {
  return (epochMs - performance.timeOrigin) * 1000 + HRTIME_OFFSET_US
}

export class EventTracker {
  readonly #streams = new Map<string | number, StreamState>()
  readonly #recorder: MetricsRecorder
  readonly #received: CounterCell
  readonly #reordered: CounterCell
  readonly #duplicated: CounterCell
  readonly #latency: Histogram
  /** the stream of the previous event and its state: most sockets carry one stream, so no Map lookup (and no string hash) per event */
  #lastStream: string | number | undefined
  #last: StreamState | undefined
  #reconciled = false

  constructor (recorder: MetricsRecorder) {
    this.#recorder = recorder
    this.#received = recorder.counter(METRICS.wsEventsReceived)
    this.#reordered = recorder.counter(METRICS.wsEventsReordered)
    this.#duplicated = recorder.counter(METRICS.wsEventsDuplicated)
    this.#latency = recorder.histogram(METRICS.wsEventLatency)
  }

  /**
   * Accounts one event; times in microseconds of the monotonic clock (`receivedUs` from
   * monotonicMicros()). Without a seq only its arrival and latency count.
   */
  onEvent (stream: string | number, seq: number | undefined, sentUs: number | undefined, receivedUs: number): void {
    this.#received.value++
    if (typeof sentUs === 'number' && Number.isFinite(sentUs)) recordValueFast(this.#latency, receivedUs > sentUs ? Math.round(receivedUs - sentUs) : 0)
    if (seq === undefined || !Number.isFinite(seq)) return
    let s = this.#last
    if (stream !== this.#lastStream || s === undefined) {
      // stored only on a change of stream: no write barrier per event for a fresh string
      s = this.#streams.get(stream)
      if (s === undefined) {
        s = { firstSeen: seq, maxSeq: seq, missing: new Set(), untracked: 0 }
        this.#streams.set(stream, s)
        this.#lastStream = stream
        this.#last = s
        return
      }
      this.#lastStream = stream
      this.#last = s
    }
    if (seq === s.maxSeq + 1) {
      s.maxSeq = seq
    } else if (seq > s.maxSeq) {
      const gap = seq - s.maxSeq - 1
      if (gap > MAX_TRACKED_GAP || s.missing.size + gap > MAX_TRACKED_GAP) s.untracked += gap
      else for (let k = s.maxSeq + 1; k < seq; k++) s.missing.add(k)
      s.maxSeq = seq
    } else if (s.missing.delete(seq)) {
      this.#reordered.value++
    } else if (seq < s.firstSeen) {
      // arrived late, before anything we had seen of this stream
      for (let k = seq + 1; k < s.firstSeen && s.missing.size < MAX_TRACKED_GAP; k++) s.missing.add(k)
      s.firstSeen = seq
      this.#reordered.value++
    } else {
      this.#duplicated.value++
    }
  }

  /**
   * Final accounting, once: with the server's ranges when it answered `end` (everything in
   * first..last not received is lost), else from the gaps seen; `expectedAnswer`: the server
   * was asked and did not answer, so its streams count as unreconciled. Records lost/sent.
   */
  reconcile (ranges: Record<string, StreamRange> | undefined, expectedAnswer = true): StreamTotals {
    const totals: StreamTotals = { sent: 0, lost: 0, unreconciled: 0 }
    if (this.#reconciled) return totals
    this.#reconciled = true
    if (ranges === undefined) {
      for (const s of this.#streams.values()) {
        totals.lost += s.missing.size + s.untracked
        if (expectedAnswer) totals.unreconciled++
      }
    } else {
      for (const [id, r] of Object.entries(ranges)) {
        totals.sent += r.last - r.first + 1
        // stream ids arrive as JSON keys: match numbers too
        const s = this.#streams.get(id) ?? this.#streams.get(Number(id))
        if (s === undefined) { totals.lost += r.last - r.first + 1; continue }
        let lost = s.untracked
        for (const k of s.missing) if (k >= r.first && k <= r.last) lost++
        if (s.firstSeen > r.first) lost += s.firstSeen - r.first
        if (r.last > s.maxSeq) lost += r.last - s.maxSeq
        totals.lost += lost
      }
    }
    const rec = this.#recorder
    if (totals.sent > 0) rec.count(METRICS.wsEventsSent, totals.sent)
    if (totals.lost > 0) rec.count(METRICS.wsEventsLost, totals.lost)
    if (totals.unreconciled > 0) rec.count(METRICS.wsStreamsUnreconciled, totals.unreconciled)
    return totals
  }
}
