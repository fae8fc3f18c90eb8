// When requests succeeded and failed, at a finer grain than the per-second counts: per tick, the
// first success, the first failure, and where the trailing streak of each began (the first
// success after the last failure, the first failure after the last success). Outage detection
// reads the edges of a failure window from these. Four numbers per tick and two comparisons per
// request: nothing is allocated on the hot path.

/** One tick's marks, epoch ms; NaN: none. [firstOk, okStreakFrom, firstFail, failStreakFrom] */
export type OutcomeMarkTuple = [number, number, number, number]

export class OutcomeMarks {
  #firstOk = NaN
  #okFrom = NaN
  #firstFail = NaN
  #failFrom = NaN

  /** A request ended at `at` (performance.now() of this thread). */
  mark (passed: boolean, at: number): void {
    if (passed) {
      if (Number.isNaN(this.#firstOk)) this.#firstOk = at
      if (Number.isNaN(this.#okFrom)) this.#okFrom = at
      this.#failFrom = NaN
    } else {
      if (Number.isNaN(this.#firstFail)) this.#firstFail = at
      if (Number.isNaN(this.#failFrom)) this.#failFrom = at
      this.#okFrom = NaN
    }
  }

  /** The tick's marks in epoch ms (undefined: no request ended), and a fresh tick. */
  drain (): OutcomeMarkTuple | undefined {
    if (Number.isNaN(this.#firstOk) && Number.isNaN(this.#firstFail)) return undefined
    const o = performance.timeOrigin
    const out: OutcomeMarkTuple = [this.#firstOk + o, this.#okFrom + o, this.#firstFail + o, this.#failFrom + o]
    this.#firstOk = this.#okFrom = this.#firstFail = this.#failFrom = NaN
    return out
  }
}

/** Marks of several ticks (or threads) in one second: the earliest of each. */
export function mergeMarks (into: OutcomeMarkTuple | undefined, m: OutcomeMarkTuple): OutcomeMarkTuple {
  if (into === undefined) return [...m]
  for (let i = 0; i < 4; i++) {
    const v = m[i]!
    if (!Number.isNaN(v) && !(into[i]! <= v)) into[i] = v
  }
  return into
}
