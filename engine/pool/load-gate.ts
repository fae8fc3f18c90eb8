// The load gate: how the main thread takes a heap reading at a quiet point. It holds new
// iterations (one HOLD store in the control block), waits for the iterations in flight to end
// (IN_FLIGHT, counted by every cohort), reads, and releases. Entering is Dekker-style: a user
// counts itself in flight first and only then looks at HOLD, while the main thread stores HOLD
// first and only then reads IN_FLIGHT; with sequentially consistent Atomics one of the two
// always sees the other, so no iteration can slip in between "held" and "drained".
import { HOLD, IN_FLIGHT, signal, waitUntilChanged } from '../shared/index.js'

/** Worker side: each iteration enters (waiting while the load is held) and leaves. One per cohort. */
export class IterationGate {
  readonly #view: Int32Array
  /** one wait per cohort, however many of its users are held */
  #released: Promise<unknown> | undefined

  constructor (view: Int32Array) {
    this.#view = view
  }

  get held (): boolean {
    return Atomics.load(this.#view, HOLD) !== 0
  }

  /**
   * Counts one iteration in flight; while the load is held it waits for the release (or the run's
   * stop) first. Resolves with the ms it waited: the caller's iteration time starts after it.
   */
  async enter (stopped: Promise<void>, stopping: () => boolean): Promise<number> {
    let waited = 0
    for (;;) {
      Atomics.add(this.#view, IN_FLIGHT, 1)
      // stopped while held: counted in, and the caller's stop check decides what happens next
      if (!this.held || stopping()) return waited
      this.leave()
      const since = performance.now()
      await Promise.race([this.released(), stopped])
      waited += performance.now() - since
    }
  }

  leave (): void {
    // the main thread only waits for zero: a notify per iteration would wake it for nothing
    if (Atomics.sub(this.#view, IN_FLIGHT, 1) === 1) Atomics.notify(this.#view, IN_FLIGHT)
  }

  /** Resolves when the hold is released (at once when not held). */
  released (): Promise<unknown> {
    if (!this.held) return Promise.resolve()
    this.#released ??= waitUntilChanged(this.#view, HOLD, 1).finally(() => { this.#released = undefined })
    return this.#released
  }
}

export interface QuietPoint {
  /** iterations still in flight when the wait ended (0: quiet) */
  inFlight: number
  /** how long the in-flight iterations took to end, ms */
  drainMs: number
}

/** Main-thread side: hold, wait for the in-flight iterations (bounded), release. */
export class LoadHold {
  readonly #view: Int32Array

  constructor (view: Int32Array) {
    this.#view = view
  }

  /** Holds new iterations and waits, at most `boundMs`, for those in flight to end. */
  async hold (boundMs: number): Promise<QuietPoint> {
    const since = performance.now()
    signal(this.#view, HOLD, 1)
    for (;;) {
      const inFlight = Atomics.load(this.#view, IN_FLIGHT)
      const left = since + boundMs - performance.now()
      if (inFlight <= 0 || left <= 0) return { inFlight: Math.max(0, inFlight), drainMs: performance.now() - since }
      const w = Atomics.waitAsync(this.#view, IN_FLIGHT, inFlight, left)
      if (w.async) await w.value
    }
  }

  release (): void {
    signal(this.#view, HOLD, 0)
  }
}
