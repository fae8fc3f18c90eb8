// The main thread's watchdog over the worker threads. Every cohort beats in its slot of the
// control block (a timer on its thread); a thread stuck in a synchronous loop beats no more, and
// neither ticks nor aborts can reach it. A thread whose cohorts are all silent for longer than
// the bound is named (thread, cohorts, users, and the scenario call it last entered) and
// terminated: its tasks reject and their users are lost. The run goes on without them.
import { BEAT_NONE, BEAT_ENDED, CohortSlot, type CohortSlotView } from '../shared/index.js'
import type { CohortSpec } from './messages.js'

/**
 * a thread silent this long is stuck (or WATCHDOG_TICKS ticks, whichever is longer). 10 s, not
 * less: on a box loaded several times over (3 shard processes of 10,000 users on 2 cores) a
 * worker tearing down 5,000 sockets went 5.5 s without a beat and was not stuck
 */
export const WATCHDOG_MIN_MS = 10_000
export const WATCHDOG_TICKS = 5
/** how often the watchdog looks */
const CHECK_MS = 500

export function watchdogBoundMs (tickMs: number): number {
  return Math.max(WATCHDOG_MIN_MS, WATCHDOG_TICKS * tickMs)
}

/** A cohort the watchdog looks after, while its task runs. */
export interface WatchedCohort {
  spec: CohortSpec
  /** settled tasks are not watched */
  readonly settled: boolean
}

export interface StuckThread {
  threadId: number
  silentMs: number
  /** the thread's cohorts, the one it is stuck in first */
  cohorts: CohortSpec[]
  /** the scenario call it last entered (undefined: stuck outside a scenario call) */
  call: CohortSlotView['call']
  /** one line for the run's failures */
  line: string
}

export class Watchdog {
  readonly #view: Int32Array
  readonly #originEpochMs: number
  readonly #boundMs: number
  readonly #onStuck: (stuck: StuckThread) => void
  readonly #handled = new Set<number>()
  #timer: NodeJS.Timeout | undefined

  /** `originEpochMs`: the run clock's origin, the one cohorts beat on */
  constructor (o: { view: Int32Array, originEpochMs: number, boundMs: number, onStuck: (stuck: StuckThread) => void }) {
    this.#view = o.view
    this.#originEpochMs = o.originEpochMs
    this.#boundMs = o.boundMs
    this.#onStuck = o.onStuck
  }

  start (cohorts: () => Iterable<WatchedCohort>): void {
    this.#timer = setInterval(() => this.check(cohorts()), CHECK_MS)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  /** Finds the threads whose running cohorts are all silent past the bound; each is reported once. */
  check (cohorts: Iterable<WatchedCohort>): StuckThread[] {
    const now = performance.timeOrigin + performance.now() - this.#originEpochMs
    const byThread = new Map<number, Array<{ spec: CohortSpec, slot: CohortSlotView }>>()
    for (const c of cohorts) {
      if (c.settled) continue
      const slot = new CohortSlot(this.#view, c.spec.id).read()
      if (slot.beatMs === BEAT_NONE || slot.beatMs === BEAT_ENDED || this.#handled.has(slot.threadId)) continue
      const list = byThread.get(slot.threadId) ?? []
      list.push({ spec: c.spec, slot })
      byThread.set(slot.threadId, list)
    }
    const found: StuckThread[] = []
    for (const [threadId, list] of byThread) {
      const silentMs = now - Math.max(...list.map(c => c.slot.beatMs))
      if (silentMs <= this.#boundMs) continue
      this.#handled.add(threadId)
      // the scenario call entered last on the thread is the one that never returned
      list.sort((a, b) => b.slot.callNumber - a.slot.callNumber)
      const stuck = { threadId, silentMs, cohorts: list.map(c => c.spec), call: list[0]!.slot.call }
      found.push({ ...stuck, line: describe(stuck, this.#boundMs) })
    }
    for (const s of found) this.#onStuck(s)
    return found
  }
}

const cohortName = (c: CohortSpec): string => `cohort ${c.id} (users ${(c.userBase ?? 0) + c.firstUser}-${(c.userBase ?? 0) + c.firstUser + c.size - 1})`

function describe (s: Omit<StuckThread, 'line'>, boundMs: number): string {
  const where = s.call === undefined ? 'outside any scenario call' : `${s.call.fn} of user-${s.call.user}`
  return `watchdog: worker thread ${s.threadId} silent for ${(s.silentMs / 1000).toFixed(1)} s (bound ${boundMs / 1000} s), ` +
    `stuck in ${where} (${cohortName(s.cohorts[0]!)}); thread terminated, users of ${s.cohorts.map(cohortName).join(', ')} lost`
}
