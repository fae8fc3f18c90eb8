// Abort-on-fail during the run: evaluated every tick on the thresholds that ask for it.
import type { Threshold } from './compile.js'
import type { ThresholdResult } from '../result/index.js'
import { evaluateThresholds, hasSamples, type ThresholdInput } from './evaluate.js'

export class ThresholdWatch {
  readonly #watched: readonly Threshold[]
  #tripped: ThresholdResult | undefined

  constructor (thresholds: readonly Threshold[]) {
    this.#watched = thresholds.filter(t => t.abortOnFail)
  }

  /** False when no threshold has abortOnFail: the runner need not build inputs every tick. */
  get active (): boolean {
    return this.#watched.length > 0
  }

  /** The threshold that stopped the run, once check() has returned one. */
  get tripped (): ThresholdResult | undefined {
    return this.#tripped
  }

  /**
   * The first failing abortOnFail threshold whose delayAbortEvalMs has elapsed, else undefined.
   * A metric without samples yet, of any kind, does not abort (k6 too): a rate with no samples
   * reads 0 and a counter never counted reads 0, but that is no data, not a failure. The end-of-run
   * evaluation still judges them. Once one trips, every later call returns it.
   */
  check (input: ThresholdInput, elapsedMs: number): ThresholdResult | undefined {
    if (this.#tripped !== undefined) return this.#tripped
    const due = this.#watched.filter(t => elapsedMs >= t.delayAbortEvalMs && hasSamples(t, input))
    if (due.length === 0) return undefined
    this.#tripped = evaluateThresholds(due, input).find(r => !r.passed && r.value !== null)
    return this.#tripped
  }
}
