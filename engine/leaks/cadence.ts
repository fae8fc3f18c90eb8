// How often the heap is read. The trend needs 8 readings in its steady window (the second half),
// and each reading is a full GC (and, quiet, a pause of the load), so the cadence aims at about
// 30 readings over the planned load whatever the server's speed: the operation rate measured in
// the first seconds of the load, times the planned duration (or the operations per iteration
// times the planned iterations), divided by 30. `--leak-every` overrides it.

/** readings aimed at over the planned load */
export const TARGET_READINGS = 30
/** never a reading more often than this many operations (each one is a full GC) */
export const MIN_EVERY_OPS = 200
/** how much of the load runs before its rate is measured */
export const ESTIMATE_AFTER_MS = 1000
/** a load bound by neither a duration nor iterations (only by maxDuration) */
const FALLBACK_EVERY_OPS = 1000

export interface PlannedLoad {
  /** length of the load phase (null: bound by iterations only) */
  durationMs: number | null
  /** iterations of the whole run (null: bound by time only) */
  iterations: number | null
}

export class ReadingCadence {
  readonly #plan: PlannedLoad
  #everyOps: number | undefined
  #loadStartedAt: number | undefined
  /** when operations were first counted */
  #firstOps: { at: number, ops: number, iterations: number } | undefined
  #rule: string

  /** `explicit`: the user's --leak-every (undefined: from the operation rate) */
  constructor (explicit: number | undefined, plan: PlannedLoad) {
    this.#plan = plan
    this.#everyOps = explicit
    this.#rule = explicit === undefined ? 'undecided' : 'explicit (--leak-every)'
  }

  /** operations between readings, once decided */
  get everyOps (): number | undefined {
    return this.#everyOps
  }

  /** how everyOps was chosen, one line for the report */
  get rule (): string {
    return this.#rule
  }

  loadStarted (at: number): void {
    this.#loadStartedAt ??= at
  }

  /**
   * Decides the cadence once operations have flowed for ESTIMATE_AFTER_MS (or at the end, `final`,
   * from what was done); until then undefined. `ops` and `iterations` are the run's counts so far.
   * The rate is measured from the first completed operation, not the start barrier: at 1000 users
   * the first seconds can go to opening connections, and ops arrive in ticks.
   */
  decide (now: number, ops: number, iterations: number, final = false): number | undefined {
    if (this.#everyOps !== undefined) return this.#everyOps
    if (ops > 0 && this.#firstOps === undefined) this.#firstOps = { at: now, ops, iterations }
    const first = this.#firstOps
    const elapsed = first === undefined ? 0 : now - first.at
    if (!final && (first === undefined || elapsed < ESTIMATE_AFTER_MS || ops === first.ops)) return undefined
    const rate = first === undefined || elapsed <= 0 ? 0 : (ops - first.ops) / elapsed
    const estimates: number[] = []
    if (this.#plan.durationMs !== null && rate > 0) {
      const ranBefore = this.#loadStartedAt === undefined ? 0 : Math.max(0, first!.at - this.#loadStartedAt)
      estimates.push(first!.ops + rate * Math.max(0, this.#plan.durationMs - ranBefore))
    }
    if (this.#plan.iterations !== null && iterations > 0) estimates.push(ops / iterations * this.#plan.iterations)
    if (!final && estimates.length === 0) {
      this.#everyOps = FALLBACK_EVERY_OPS
      this.#rule = `no planned duration or iterations to scale by: every ${FALLBACK_EVERY_OPS} ops`
      return this.#everyOps
    }
    // a load that ended before its rate was measured: what was done is the plan
    const planned = final ? ops : Math.min(...estimates)
    this.#everyOps = Math.max(MIN_EVERY_OPS, Math.round(planned / TARGET_READINGS))
    const measured = rate > 0 ? `${Math.round(rate * 1000)} ops/s over ${(elapsed / 1000).toFixed(1)} s, ` : ''
    this.#rule = `from the operation rate: ${measured}~${Math.round(planned)} planned ops / ${TARGET_READINGS} readings (at least ${MIN_EVERY_OPS})`
    return this.#everyOps
  }
}
