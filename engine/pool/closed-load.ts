// Closed model (constant-users, ramping-users, spike): each user loops over iterations while the
// profile wants it. User i of the run is active while floor(users(t)) > i; a user the profile
// drops finishes its current iteration, then waits until it is wanted again or its part ends.
import { levelWindow, valueAt } from '../load/index.js'
import { waitUnless } from './error-backoff.js'
import { runIteration, type LoadPhase, type User } from './load-phase.js'

/** how often a ramping cohort re-reads the profile */
const CONTROL_MS = 25

/** Users of the cohort the profile wants at `t` ms after the start. */
export function wantedUsers (lp: Pick<LoadPhase, 'plan' | 'cohort'>, t: number): number {
  const v = Math.floor(valueAt(lp.plan.profile, t) + 1e-9) - lp.cohort.firstUser
  return Math.max(0, Math.min(lp.cohort.size, v))
}

/** Runs the cohort's users (by index in the cohort; undefined: setup failed). Resolves with the users that ran to the end. */
export async function runClosedLoad (lp: LoadPhase, users: Array<User | undefined>): Promise<number> {
  const { plan, cohort } = lp
  const ramping = plan.profile.some(p => p.value !== plan.profile[0]!.value)
  // when each user's part of the profile is over: it is never wanted again after this
  const ends = users.map((_u, i) => plan.durationMs === null
    ? Infinity
    : lp.start + (levelWindow(plan.profile, cohort.firstUser + i + 1)?.toMs ?? 0))
  const atStart = wantedUsers(lp, 0)
  let want = wantedUsers(lp, performance.now() - lp.start)
  const waiting = new Map<number, () => void>()
  const update = (): void => {
    const now = performance.now()
    want = wantedUsers(lp, now - lp.start)
    for (const [i, wake] of waiting) {
      if (i < want || lp.stopping() || now >= ends[i]! || now >= lp.deadline) { waiting.delete(i); wake() }
    }
  }
  const control = ramping ? setInterval(update, CONTROL_MS) : undefined
  void lp.stopped.then(update)

  let completed = 0
  const runUser = async (u: User, i: number): Promise<void> => {
    let counted = lp.countedAtStart && i < atStart
    const end = Math.min(lp.deadline, ends[i]!)
    const done = (): boolean => lp.stopping() || performance.now() >= end || (plan.iterations !== null && u.iterations >= plan.iterations)
    try {
      while (!done()) {
        if (i >= want) {
          await new Promise<void>(resolve => waiting.set(i, resolve))
          continue
        }
        lp.active.value++
        u.enterLoad(!counted)
        counted = false
        try {
          while (i < want && !done()) {
            const ended = await runIteration(lp, u)
            if (ended === 'cut') return
            if (ended === 'skipped') continue // held past the end: the loop's checks end it
            if (ended === 'ok') lp.backoff.succeeded(u)
            // a failing target is not retried in a tight loop; the wait ends with the user's load
            else await waitUnless(Math.min(lp.backoff.failed(u), end - performance.now()), lp.stopped)
          }
        } finally {
          lp.active.value--
          u.leaveLoad()
        }
      }
      if (!lp.aborted()) completed++
    } finally {
      if (counted) { u.enterLoad(); u.leaveLoad() } // counted as a party at the start but never entered
    }
  }
  try {
    await Promise.all(users.flatMap((u, i) => u === undefined ? [] : [runUser(u, i)]))
  } finally {
    clearInterval(control)
  }
  return completed
}
