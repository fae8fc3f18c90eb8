// The run's control block, shared by the main thread and every cohort (SharedArrayBuffer +
// Atomics): all users finish setup, then one store releases them together across threads; one
// slot carries the stop signal, and named slots hold the burst barriers.

/** users that finished setup (or failed it) */
export const READY = 0
/** 0 until the main thread releases the start barrier */
export const GO = 1
/** stop signal: see STOP_* */
export const STOP = 2
/** users in the load phase: the parties of every burst barrier (see probes/burst-barrier.ts) */
export const PARTIES = 3
/** first of the named burst barrier slots */
export const BURST_BASE = 8
export const BURST_SLOTS = 64
export const CONTROL_BLOCK_BYTES = Int32Array.BYTES_PER_ELEMENT * (BURST_BASE + BURST_SLOTS)

export const STOP_NONE = 0
/** stop gracefully (abortOnFail threshold, breakpoint found): no new iterations, in-flight ones get the graceful stop */
export const STOP_GRACEFUL = 1
/** abort now (interrupt or hard deadline): in-flight work is cut */
export const STOP_ABORT = 2
/** the run is over: wakes every pending stop watcher */
export const STOP_DONE = 3

export function createControlBlock (): { buffer: SharedArrayBuffer, view: Int32Array } {
  const buffer = new SharedArrayBuffer(CONTROL_BLOCK_BYTES)
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
