// Open model (constant/ramping-arrival-rate, breakpoint): iterations arrive on schedule whether
// or not earlier ones finished. A free user takes each arrival; with none free a new user is set
// up (up to the cohort's size); with no room the arrival is dropped and counted.
import { ArrivalSchedule } from '../load/index.js'
import { METRICS } from '../metrics/index.js'
import { runIteration, type LoadPhase, type User } from './load-phase.js'

export interface OpenLoadUsers {
  /** users set up before the start */
  live: User[]
  /** whether another user may be added */
  room: () => boolean
  /** sets up one more user (undefined when its setup failed) */
  grow: () => Promise<User | undefined>
}

export async function runOpenLoad (lp: LoadPhase, pool: OpenLoadUsers): Promise<void> {
  const schedule = new ArrivalSchedule(lp.plan.profile, lp.cohort.rateShare, lp.cohort.phase)
  const dropped = lp.recorder.counter(METRICS.droppedIterations)
  const free = [...pool.live]
  const entered: User[] = []
  for (const u of pool.live) { u.enterLoad(!lp.countedAtStart); entered.push(u) }
  const inflight = new Set<Promise<void>>()
  const track = (p: Promise<void>): void => {
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
  }
  const run = async (u: User, intendedAt: number): Promise<void> => {
    lp.active.value++
    try {
      await runIteration(lp, u, intendedAt)
    } finally {
      lp.active.value--
      free.push(u)
    }
  }
  const launch = (intendedAt: number): void => {
    const u = free.pop()
    if (u !== undefined) return track(run(u, intendedAt))
    if (!pool.room()) { dropped.value++; return }
    track(pool.grow().then((added) => {
      if (added === undefined) { dropped.value++; return }
      added.enterLoad(true)
      entered.push(added)
      return run(added, intendedAt)
    }))
  }

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined
    let next = schedule.next()
    /** how long the schedule's clock stood still while the load was held for quiet heap readings */
    let shift = 0
    const step = (): void => {
      if (lp.stopping()) return resolve()
      if (lp.gate.held) {
        // arrivals due during a hold are postponed by its length, not launched in a burst after
        // it: the schedule's clock stops, so coordinated-omission correction measures each
        // iteration from its postponed time and the pause is not charged to the server
        const since = performance.now()
        void lp.gate.released().then(() => { shift += performance.now() - since; step() })
        return
      }
      const now = performance.now()
      const origin = lp.start + shift
      // late timers catch up: every due arrival starts now and is measured from when it was due
      while (next !== null && origin + next <= now && origin + next < lp.deadline) {
        launch(origin + next)
        next = schedule.next()
      }
      if (next === null || origin + next >= lp.deadline) return resolve()
      timer = setTimeout(step, origin + next - now)
    }
    void lp.stopped.then(() => { clearTimeout(timer); resolve() })
    step()
  })
  await Promise.all(inflight)
  for (const u of entered) u.leaveLoad()
}
