// Event metrics for any server, declared by the scenario: which stream an event belongs to, its
// sequence number and its send time, read from each received frame (or Socket.IO event) by the
// scenario's own functions. Any subset works: sentAt alone gives latency, seq alone gives loss,
// duplicates and reordering on one stream per socket.
import { epochMsToMonotonicMicros, type EventTracker } from './event-tracker.js'

/**
 * What `sentAt` returns: `epoch-ms`, milliseconds since 1970 from the server's clock (Date.now(),
 * the default), or `monotonic-us`, microseconds of the monotonic clock (process.hrtime) that
 * processes on one machine share. Both sides on one machine read the same clock, so the latency
 * error is the clock's resolution (about 1 ms for Date.now()); across machines it is their skew.
 */
export type EventClock = 'epoch-ms' | 'monotonic-us'

export interface EventExtractors<F> {
  /** the event's stream (one stream per socket when absent) */
  stream?: (frame: F) => string | number | undefined
  /** its position in the stream: 1, 2, 3 ... */
  seq?: (frame: F) => number | undefined
  /** when the server sent it, on `clock` */
  sentAt?: (frame: F) => number | undefined
  clock?: EventClock
}

/** Reads events with the scenario's extractors into a tracker. */
export class ExtractedEvents<F> {
  readonly #x: EventExtractors<F>
  readonly #tracker: EventTracker

  constructor (extractors: EventExtractors<F>, tracker: EventTracker) {
    this.#x = extractors
    this.#tracker = tracker
  }

  /** Accounts one frame received at `receivedUs` (monotonic); returns what an extractor threw, if anything. */
  observe (frame: F, receivedUs: number): Error | undefined {
    let stream: string | number | undefined
    let seq: number | undefined
    let sent: number | undefined
    try {
      stream = this.#x.stream?.(frame)
      seq = this.#x.seq?.(frame)
      sent = this.#x.sentAt?.(frame)
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err))
    }
    // a frame that is not an event (a reply, a presence notice) has nothing to extract
    if (seq === undefined && sent === undefined) return undefined
    const sentUs = sent === undefined ? undefined : this.#x.clock === 'monotonic-us' ? sent : epochMsToMonotonicMicros(sent)
    this.#tracker.onEvent(stream ?? 0, seq, sentUs, receivedUs)
    return undefined
  }

  /** At the socket's end: loss from the gaps seen (no server declares what it sent). */
  finish (): void {
    this.#tracker.reconcile(undefined, false)
  }
}
