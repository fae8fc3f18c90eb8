// How often the heap is read. The trend needs 8 readings in its steady window (the second half),
// and each reading is a full GC (and, quiet, a pause of the load), so the cadence aims at about
// 30 readings over the planned load whatever the server's speed:
// - a time-bound load (a duration, stages, an arrival-rate plan): a reading every
//   duration / 30, and at least MIN_EVERY_OPS operations apart. Time, not an operation count
//   from an early rate: at 1000 users the first second goes to opening connections and ran at a
//   tenth of the steady rate, so a count from it read every 100 ms and held the load ~70% of the
//   time (benchmarks/RESULTS.md);
// - a load bound by iterations only: the operations per iteration measured in the first second
//   of operations, times the planned iterations, divided by 30;
// - both: the duration's cadence until the iterations' pace is known; if they will end the load
//   first, every (their expected end) / 30.
// `--leak-every` overrides both (an operation count).

/** readings aimed at over the planned load */
export const TARGET_READINGS = 30
/** never a reading more often than this many operations (each one is a full GC) */
export const MIN_EVERY_OPS = 200
/** never a reading more often than this (a reading holds the load for a drain and a GC) */
export const MIN_EVERY_MS = 100
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

/** When the next reading is due: both bounds must be passed. */
export interface Cadence {
  /** at least this many operations after the last reading */
  everyOps: number
  /** and at least this many ms after it */
  everyMs: number
}

export class ReadingCadence {
  readonly #plan: PlannedLoad
  #decided: Cadence | undefined
  /** a time-bound load that also has iterations: the duration's cadence until their pace is known */
  #provisional: Cadence | undefined
  /** when operations were first counted */
  #firstOps: { at: number, ops: number, iterations: number } | undefined
  #rule: string

  /** `explicit`: the user's --leak-every (undefined: from the plan) */
  constructor (explicit: number | undefined, plan: PlannedLoad) {
    this.#plan = plan
    this.#rule = 'undecided'
    if (explicit !== undefined) {
      this.#decided = { everyOps: explicit, everyMs: MIN_EVERY_MS }
      this.#rule = `every ${explicit} ops (--leak-every)`
    } else if (plan.durationMs !== null) {
      const everyMs = Math.max(MIN_EVERY_MS, Math.round(plan.durationMs / TARGET_READINGS))
      this.#rule = `from the planned duration: ${seconds(plan.durationMs)} / ${TARGET_READINGS} readings, every ${seconds(everyMs)} (and at least ${MIN_EVERY_OPS} ops apart)`
      // with iterations too, the load ends at whichever comes first: decided once their pace is known
      if (plan.iterations === null) this.#decided = { everyOps: MIN_EVERY_OPS, everyMs }
      else this.#provisional = { everyOps: MIN_EVERY_OPS, everyMs }
    }
  }

  /** the cadence in force (a provisional one until decided), if any */
  get cadence (): Cadence | undefined {
    return this.#decided ?? this.#provisional
  }

  /** how it was chosen, one line for the report */
  get rule (): string {
    return this.#rule
  }

  /**
   * The cadence in force: decided at once for a time-bound load; otherwise once operations have
   * flowed for ESTIMATE_AFTER_MS and an iteration has ended (or at the end, `final`, from what
   * was done). `ops` and `iterations` are the run's counts so far. Measured from the first
   * completed operation, not the start barrier: at 1000 users the first seconds can go to
   * opening connections, and ops arrive in ticks.
   */
  decide (now: number, ops: number, iterations: number, final = false): Cadence | undefined {
    if (this.#decided !== undefined) return this.#decided
    if (ops > 0 && this.#firstOps === undefined) this.#firstOps = { at: now, ops, iterations }
    const first = this.#firstOps
    const elapsed = first === undefined ? 0 : now - first.at
    const planned = this.#plan.iterations
    const measured = first !== undefined && elapsed >= ESTIMATE_AFTER_MS && ops > first.ops
    if (!final && (!measured || (planned !== null && iterations <= first.iterations))) return this.cadence
    if (this.#provisional !== undefined) return this.#decideDurationOrIterations(elapsed, iterations - (first?.iterations ?? 0), iterations, final)
    if (planned === null && !final) {
      this.#decided = { everyOps: FALLBACK_EVERY_OPS, everyMs: MIN_EVERY_MS }
      this.#rule = `every ${FALLBACK_EVERY_OPS} ops (no planned duration or iterations to scale by)`
      return this.#decided
    }
    // a load that ended before its pace was measured: what was done is the plan
    const plannedOps = final || planned === null || iterations === 0 ? ops : ops / iterations * planned
    const everyOps = Math.max(MIN_EVERY_OPS, Math.round(plannedOps / TARGET_READINGS))
    this.#decided = { everyOps, everyMs: MIN_EVERY_MS }
    const rate = measured ? `${Math.round((ops - first.ops) / elapsed * 1000)} ops/s over ${(elapsed / 1000).toFixed(1)} s, ` : ''
    this.#rule = final || planned === null
      ? `from what the load did: ~${Math.round(plannedOps)} ops / ${TARGET_READINGS} readings (at least ${MIN_EVERY_OPS})`
      : `from the planned iterations: ${rate}~${Math.round(plannedOps)} planned ops / ${TARGET_READINGS} readings (at least ${MIN_EVERY_OPS})`
    return this.#decided
  }

  /** Both a duration and iterations: the iterations' pace says which ends the load first. */
  #decideDurationOrIterations (elapsed: number, iterationsSince: number, iterations: number, final: boolean): Cadence {
    const durationMs = this.#plan.durationMs!
    const planned = this.#plan.iterations!
    this.#decided = this.#provisional
    if (final || iterationsSince <= 0) return this.#decided!
    const expectedMs = Math.round(elapsed + (planned - iterations) / (iterationsSince / elapsed))
    if (expectedMs < durationMs) {
      const everyMs = Math.max(MIN_EVERY_MS, Math.round(expectedMs / TARGET_READINGS))
      this.#decided = { everyOps: MIN_EVERY_OPS, everyMs }
      this.#rule = `from the planned iterations, which end before the planned duration: ~${seconds(expectedMs)} / ${TARGET_READINGS} readings, every ${seconds(everyMs)} (and at least ${MIN_EVERY_OPS} ops apart)`
    }
    return this.#decided!
  }
}

function seconds (ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 2)} s`
}
