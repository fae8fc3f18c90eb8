// `await user.barrier(name)`: every user in the load phase, on every thread, waits until all have
// arrived, then all continue in the same instant, to make races fire. Each name hashes to one
// Int32 slot of the run's shared control block holding generation (high bits) and arrivals
// (low bits), so arriving is a single Atomics.add and releasing a single store + notify.
import { BURST_BASE, BURST_SLOTS, PARTIES } from '../shared/index.js'

const COUNT_BITS = 20
const COUNT_MASK = (1 << COUNT_BITS) - 1
const GEN_MASK = 0x7ff // 11 bits: the slot stays a positive Int32

export type BurstOutcome = 'released' | 'timeout'

export function burstSlot (name: string): number {
  let h = 0x811c9dc5 // FNV-1a
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  return BURST_BASE + ((h >>> 0) % BURST_SLOTS)
}

function release (view: Int32Array, slot: number, gen: number): void {
  // only the generation that is being released may be replaced (a late timeout must not
  // break the next round)
  for (let cur = Atomics.load(view, slot); cur >>> COUNT_BITS === gen; cur = Atomics.load(view, slot)) {
    if (Atomics.compareExchange(view, slot, cur, ((gen + 1) & GEN_MASK) << COUNT_BITS) === cur) break
  }
  Atomics.notify(view, slot)
}

export async function arriveAndWait (view: Int32Array, name: string, timeoutMs: number): Promise<BurstOutcome> {
  const slot = burstSlot(name)
  const old = Atomics.add(view, slot, 1)
  const gen = old >>> COUNT_BITS
  if ((old & COUNT_MASK) + 1 >= Atomics.load(view, PARTIES)) {
    release(view, slot, gen)
    return 'released'
  }
  const deadline = performance.now() + timeoutMs
  for (let cur = Atomics.load(view, slot); cur >>> COUNT_BITS === gen; cur = Atomics.load(view, slot)) {
    const left = deadline - performance.now()
    if (left <= 0) {
      release(view, slot, gen) // a missing party breaks the barrier for everyone waiting
      return 'timeout'
    }
    const w = Atomics.waitAsync(view, slot, cur, left)
    if (w.async) await w.value
  }
  return 'released'
}

/** A user enters the load phase after the start: burst barriers now wait for it too. */
export function joinBursts (view: Int32Array): void {
  Atomics.add(view, PARTIES, 1)
}

/** A user leaves the load phase: it is no longer awaited by any burst barrier. */
export function leaveBursts (view: Int32Array): void {
  const parties = Atomics.sub(view, PARTIES, 1) - 1
  for (let slot = BURST_BASE; slot < BURST_BASE + BURST_SLOTS; slot++) {
    const cur = Atomics.load(view, slot)
    const arrived = cur & COUNT_MASK
    if (arrived > 0 && arrived >= parties) release(view, slot, cur >>> COUNT_BITS)
  }
}
