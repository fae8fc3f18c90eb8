// The run's control block, shared by the main thread and every cohort (SharedArrayBuffer +
// Atomics): all users finish setup, then one store releases them together across threads; one
// slot carries the stop signal, and named slots hold the burst barriers. After them, each cohort
// has a slot the watchdog reads: its heartbeat, its thread and the scenario call it last entered.

/** users that finished setup (or failed it) */
export const READY = 0
/** 0 until the main thread releases the start barrier */
export const GO = 1
/** stop signal: see STOP_* */
export const STOP = 2
/** users in the load phase: the parties of every burst barrier (see probes/burst-barrier.ts) */
export const PARTIES = 3
/** how many scenario calls were entered, run-wide: orders the calls of cohorts sharing a thread */
export const CALLS = 4
/** 1 while the main thread holds new iterations for a quiet heap reading (see pool/load-gate.ts) */
export const HOLD = 5
/** iterations in flight, run-wide: the main thread waits for 0 before a quiet reading */
export const IN_FLIGHT = 6
/** first of the named burst barrier slots */
export const BURST_BASE = 8
export const BURST_SLOTS = 64
/** first cohort slot; each is COHORT_SLOT_INTS long: heartbeat, thread id, call number, call */
export const COHORT_BASE = BURST_BASE + BURST_SLOTS
export const COHORT_SLOT_INTS = 4
export const CONTROL_BLOCK_BYTES = Int32Array.BYTES_PER_ELEMENT * COHORT_BASE

export const STOP_NONE = 0
/** stop gracefully (abortOnFail threshold, breakpoint found): no new iterations, in-flight ones get the graceful stop */
export const STOP_GRACEFUL = 1
/** abort now (interrupt or hard deadline): in-flight work is cut */
export const STOP_ABORT = 2
/** the run is over: wakes every pending stop watcher */
export const STOP_DONE = 3

/** A control block with a slot for each of `cohorts` cohorts (ids 0 .. cohorts - 1). */
export function createControlBlock (cohorts = 0): { buffer: SharedArrayBuffer, view: Int32Array } {
  const buffer = new SharedArrayBuffer(CONTROL_BLOCK_BYTES + Int32Array.BYTES_PER_ELEMENT * COHORT_SLOT_INTS * cohorts)
  return { buffer, view: new Int32Array(buffer) }
}

/** Resolves when `view[index]` is no longer `value` (immediately if it already differs). */
export async function waitUntilChanged (view: Int32Array, index: number, value: number): Promise<number> {
  while (Atomics.load(view, index) === value) {
    const w = Atomics.waitAsync(view, index, value)
    if (w.async) await w.value
  }
  return Atomics.load(view, index)
}

export function signal (view: Int32Array, index: number, value: number): void {
  Atomics.store(view, index, value)
  Atomics.notify(view, index)
}

/** the scenario functions a cohort calls, in the order of their codes */
export const SCENARIO_CALLS = ['setup', 'iteration', 'teardown'] as const
export type ScenarioCall = typeof SCENARIO_CALLS[number]

/** a heartbeat value: the cohort has not started, or has ended (nothing to watch) */
export const BEAT_NONE = 0
export const BEAT_ENDED = -1

export interface CohortSlotView {
  /** ms on the run clock of the last heartbeat, or BEAT_NONE / BEAT_ENDED */
  beatMs: number
  threadId: number
  /** run-wide number of the last scenario call entered (0: none) */
  callNumber: number
  /** the last scenario call entered, and for which user id */
  call: { fn: ScenarioCall, user: number } | undefined
}

/**
 * One cohort's watchdog slot. The worker beats on a timer and records, before each scenario call,
 * which function and user it enters; a thread stuck in a synchronous loop stops beating, and the
 * main thread reads where it is stuck. Each write is one Atomics store.
 */
export class CohortSlot {
  readonly #view: Int32Array
  readonly #at: number

  constructor (view: Int32Array, cohortId: number) {
    this.#view = view
    this.#at = COHORT_BASE + cohortId * COHORT_SLOT_INTS
  }

  /** whether the control block has this cohort's slot (blocks made without one are not watched) */
  get exists (): boolean {
    return this.#at + COHORT_SLOT_INTS <= this.#view.length
  }

  claim (threadId: number): void {
    if (this.exists) Atomics.store(this.#view, this.#at + 1, threadId)
  }

  /** `ms` on the run clock (whole ms, > 0), or BEAT_ENDED */
  beat (ms: number): void {
    if (this.exists) Atomics.store(this.#view, this.#at, ms === BEAT_ENDED ? BEAT_ENDED : Math.max(1, Math.round(ms)))
  }

  enter (fn: ScenarioCall, user: number): void {
    if (!this.exists) return
    Atomics.store(this.#view, this.#at + 2, Atomics.add(this.#view, CALLS, 1) + 1)
    Atomics.store(this.#view, this.#at + 3, (user + 1) * 4 + SCENARIO_CALLS.indexOf(fn))
  }

  read (): CohortSlotView {
    const v = this.#view
    const code = this.exists ? Atomics.load(v, this.#at + 3) : 0
    return {
      beatMs: this.exists ? Atomics.load(v, this.#at) : BEAT_NONE,
      threadId: this.exists ? Atomics.load(v, this.#at + 1) : 0,
      callNumber: this.exists ? Atomics.load(v, this.#at + 2) : 0,
      call: code === 0 ? undefined : { fn: SCENARIO_CALLS[code % 4]!, user: Math.floor(code / 4) - 1 }
    }
  }
}
