// A cohort's ticks fall on the run clock's tick boundaries in every cohort, and each says which
// interval it covers, so per-second series count each second's work in that second, whatever
// the thread.

export class Ticker {
  readonly #originEpochMs: number
  readonly #tickMs: number
  readonly #tick: (coversUntilEpochMs?: number) => void
  #timer: NodeJS.Timeout | undefined
  #lastBoundary = -Infinity
  #running = false

  /** `tick(coversUntil)` posts the metrics of the interval ending at that epoch ms (undefined: an extra tick). */
  constructor (originEpochMs: number, tickMs: number, tick: (coversUntilEpochMs?: number) => void) {
    this.#originEpochMs = originEpochMs
    this.#tickMs = tickMs
    this.#tick = tick
  }

  start (): void {
    this.#running = true
    this.#schedule()
  }

  /** An extra tick now, outside the boundaries (counted when it arrives). */
  now (): void {
    this.#tick()
  }

  stop (): void {
    this.#running = false
    clearTimeout(this.#timer)
  }

  #schedule (): void {
    if (!this.#running) return
    const now = performance.timeOrigin + performance.now()
    // the next boundary after the last one (a timer may fire a hair before its boundary)
    const boundary = Math.max(this.#lastBoundary + this.#tickMs, this.#originEpochMs + Math.floor((now - this.#originEpochMs) / this.#tickMs + 1) * this.#tickMs)
    this.#lastBoundary = boundary
    this.#timer = setTimeout(() => { this.#tick(boundary); this.#schedule() }, boundary - now)
  }
}
