// What the closed- and open-model load loops of a cohort share: the users, the clock, the stop
// signals and how one iteration is run and recorded.
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { UserContext } from '../context/index.js'
import { METRICS, type MetricsRecorder } from '../metrics/index.js'
import type { Scenario } from '../scenario/index.js'
import type { CohortSlot } from '../shared/index.js'
import type { ErrorBackoff } from './error-backoff.js'
import type { ErrorGroups } from './error-groups.js'
import type { IterationGate } from './load-gate.js'
import type { CohortPlan, CohortSpec } from './messages.js'

export type User = UserContext<object>

export interface LoadPhase {
  scenario: Scenario<object>
  plan: CohortPlan
  cohort: CohortSpec
  recorder: MetricsRecorder
  errors: ErrorGroups
  /** closed model: how long a user waits after a failed iteration */
  backoff: ErrorBackoff
  /** the cohort's watchdog slot: each iteration records that it enters it, for which user */
  slot: CohortSlot
  /** performance.now() of the start barrier's release, on this thread's clock */
  start: number
  /** no iteration starts after this (performance.now()) */
  deadline: number
  /** the run asked to stop (gracefully or not) */
  stopping: () => boolean
  aborted: () => boolean
  /** resolves once stopping() turns true */
  stopped: Promise<void>
  /** users of this cohort in the load phase (the tick reports it) */
  active: { value: number }
  /** held by the main thread for a quiet heap reading: each iteration enters it */
  gate: IterationGate
  /** whether the main thread counted the cohort's users active at the start as burst parties */
  countedAtStart: boolean
}

/** Let timers and I/O run at least this often even if a scenario never awaits real I/O. */
const YIELD_EVERY = 64

/**
 * how an iteration ended: `cut` by an abort (neither a result nor an error); `skipped` when a
 * hold for a quiet heap reading lasted past the load's end or into a stop (it never started)
 */
export type IterationEnd = 'ok' | 'failed' | 'cut' | 'skipped'

/**
 * One iteration of one user, once the load gate lets it in (the wait is not iteration time).
 * Open-model iterations pass their intended start: `iteration.duration` is then measured from it
 * (coordinated omission corrected) and `iteration.duration.uncorrected` from the actual start.
 * A hold for a quiet reading moves the intended start by its length: the pause is crosstalk's,
 * not the server's, and is not charged to it.
 */
export async function runIteration (lp: LoadPhase, u: User, intendedAt?: number): Promise<IterationEnd> {
  const held = await lp.gate.enter(lp.stopped, lp.stopping)
  try {
    if (held > 0 && (lp.stopping() || performance.now() >= lp.deadline)) return 'skipped'
    return await iterate(lp, u, intendedAt === undefined ? undefined : intendedAt + held)
  } finally {
    lp.gate.leave()
  }
}

async function iterate (lp: LoadPhase, u: User, intendedAt: number | undefined): Promise<IterationEnd> {
  const t0 = performance.now()
  let end: IterationEnd = 'ok'
  lp.slot.enter('iteration', u.id)
  try {
    await lp.scenario.iteration(u)
    const t1 = performance.now()
    lp.recorder.trend(METRICS.iterationDuration, t1 - (intendedAt ?? t0))
    if (intendedAt !== undefined) lp.recorder.trend(METRICS.iterationDurationUncorrected, t1 - t0)
  } catch (err) {
    if (lp.aborted()) return 'cut'
    lp.errors.add('iteration', u.name, err)
    lp.recorder.count(METRICS.errors)
    end = 'failed'
  }
  u.iterations++
  lp.recorder.count(METRICS.iterations)
  if (u.iterations % YIELD_EVERY === 0) await yieldToLoop()
  return end
}
