// Piscina worker entry: runs one cohort of users from setup through the start barrier, the load
// phase and teardown, posting metric deltas every tick. Native addons that are not
// context-aware (the memwatch heap backend) must never be loaded from here: see engine/leaks/.
import { threadId } from 'node:worker_threads'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { Session } from 'node:inspector/promises'
import { UserContext } from '../context/index.js'
import { CohortIsolation, Directory } from '../isolation/index.js'
import { TimeoutError } from '../errors.js'
import { METRICS, MetricsRecorder } from '../metrics/index.js'
import { importScenario, type Scenario } from '../scenario/index.js'
import { GO, READY, STOP, STOP_ABORT, STOP_NONE, waitUntilChanged } from './barrier.js'
import { ErrorGroups } from './error-groups.js'
import type { CohortResult, CohortTask, DirectoryMessage, ReadyMessage, TickMessage } from './messages.js'

const scenarios = new Map<string, Promise<Scenario<object>>>()

function loadOnce (url: string): Promise<Scenario<object>> {
  let p = scenarios.get(url)
  if (p === undefined) { p = importScenario(url); scenarios.set(url, p) }
  return p
}

/** The directory is decoded once per thread and run, whatever the number of cohorts. */
const directories = new Map<SharedArrayBuffer, Directory>()

function directoryOf (buffer: SharedArrayBuffer): Directory {
  let d = directories.get(buffer)
  if (d === undefined) {
    directories.clear() // one run at a time per pool
    d = Directory.decode(buffer)
    directories.set(buffer, d)
  }
  return d
}

/** How long a cohort waits for the directory after the start barrier opened. */
const DIRECTORY_WAIT_MS = 5000

/** Runs `step`, failing with a TimeoutError after `ms` (the step itself cannot be cancelled). */
async function withTimeout<T> (step: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      Promise.resolve().then(step),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Let timers and I/O run at least this often even if a scenario never awaits real I/O. */
const YIELD_EVERY = 64
/** After an abort, how long in-flight iterations get to notice their closed connections. */
const ABORT_SETTLE_MS = 200

export default async function runCohort (task: CohortTask): Promise<CohortResult> {
  // the self-check runs after runCohortTask's frame is gone: its locals must not count as leaks
  const { result, watched } = await runCohortTask(task)
  return { ...result, selfCheck: { checked: watched.length, retained: await countRetained(watched) } }
}

async function runCohortTask (task: CohortTask): Promise<{ result: Omit<CohortResult, 'selfCheck'>, watched: Array<WeakRef<object>> }> {
  const { cohort, plan, port } = task
  const barrier = new Int32Array(task.barrier)
  const recorder = new MetricsRecorder()
  const errors = new ErrorGroups()
  const isolation = new CohortIsolation({
    secret: task.secret,
    runId: task.runId,
    scan: task.isolation.scan,
    threadId,
    recorder,
    control: barrier,
    barrierTimeoutMs: task.isolation.barrierTimeoutMs
  })
  let active = 0
  let aborted = false
  const directoryArrived = new Promise<void>((resolve) => {
    port.on('message', (m: DirectoryMessage) => {
      if (m.type === 'directory') { isolation.directory = directoryOf(m.buffer); resolve() }
    })
  })

  const tick = (): void => {
    const msg: TickMessage = { type: 'tick', cohortId: cohort.id, threadId, delta: recorder.flush(), active, errors: errors.drain(), violations: isolation.drain() }
    port.postMessage(msg)
  }
  const ticker = setInterval(tick, task.tickMs)

  const users: UserContext<object>[] = []
  for (let i = 0; i < cohort.size; i++) {
    users.push(new UserContext({
      id: cohort.firstUser + i,
      runId: task.runId,
      origin: task.origin,
      timeoutMs: task.requestTimeoutMs,
      recorder,
      threadId,
      cohortId: cohort.id,
      isolation
    }))
  }
  let onAborted!: () => void
  const abortedSignal = new Promise<void>(resolve => { onAborted = resolve })
  const abortAll = (): void => {
    if (aborted) return
    aborted = true
    for (const u of users) void u.close(true)
    onAborted()
  }
  // An interrupt or the hard deadline aborts in-flight work at once.
  void waitUntilChanged(barrier, STOP, STOP_NONE).then(v => { if (v === STOP_ABORT) abortAll() })

  let lost = 0
  let completed = 0
  let watched: Array<WeakRef<object>> = []
  // users whose setup succeeded; emptied at the end like `users`: pending waiters (the stop
  // watcher's Atomics.waitAsync lives until the run ends) keep closures over this scope alive
  const live: UserContext<object>[] = []
  try {
    const scenario = await loadOnce(task.scenarioUrl)

    // Setup: every user, concurrently; a user whose setup fails sits out the load phase.
    await Promise.all(users.map(async (u) => {
      try {
        if (scenario.setup !== undefined) await withTimeout(() => scenario.setup!(u), task.setupTimeoutMs, `setup of ${u.name}`)
        live.push(u)
      } catch (err) {
        lost++
        errors.add('setup', u.name, err)
      }
    }))
    Atomics.add(barrier, READY, cohort.size)
    Atomics.notify(barrier, READY)
    const ready: ReadyMessage = { type: 'ready', cohortId: cohort.id, threadId, setupFailed: lost, directory: live.map(u => u.directoryEntry()) }
    port.postMessage(ready)

    // Start barrier: all users of all cohorts start together.
    await waitUntilChanged(barrier, GO, 0)
    if (Atomics.load(barrier, STOP) === STOP_NONE) {
      // sent just before the release, but messages may trail the Atomics store
      await Promise.race([directoryArrived, new Promise(resolve => setTimeout(resolve, DIRECTORY_WAIT_MS))])
    }

    const start = performance.now()
    const deadline = plan.durationMs === null ? start + plan.maxDurationMs : start + Math.min(plan.durationMs, plan.maxDurationMs)
    // In-flight iterations get the graceful stop after the deadline; then they are cut.
    const cutoff = setTimeout(abortAll, deadline - start + plan.gracefulStopMs)

    const runUser = async (u: UserContext<object>): Promise<void> => {
      active++
      u.enterLoad()
      try {
        while (!aborted && Atomics.load(barrier, STOP) === STOP_NONE &&
          (plan.iterations === null || u.iterations < plan.iterations) &&
          performance.now() < deadline) {
          const t0 = performance.now()
          try {
            await scenario.iteration(u)
            recorder.trend(METRICS.iterationDuration, performance.now() - t0)
          } catch (err) {
            if (aborted) break // cut by an abort: neither a result nor an error
            errors.add('iteration', u.name, err)
            recorder.count(METRICS.errors)
          }
          u.iterations++
          recorder.count(METRICS.iterations)
          if (u.iterations % YIELD_EVERY === 0) await yieldToLoop()
        }
        if (!aborted) completed++
      } finally {
        active--
        u.leaveLoad()
      }
    }
    if (Atomics.load(barrier, STOP) === STOP_NONE) {
      const running = Promise.all(live.map(runUser)) // each user counts itself active synchronously
      tick() // so this first tick reports the whole cohort active as the load phase starts
      // An abort closes every connection, so in-flight requests fail at once; an iteration stuck on
      // something else cannot be cancelled, so the cohort stops waiting for it shortly after.
      await Promise.race([
        running,
        abortedSignal.then(() => new Promise(resolve => setTimeout(resolve, ABORT_SETTLE_MS)))
      ])
    }
    clearTimeout(cutoff)

    if (!aborted) {
      // Event streams end after the load phase: each socket asks the server to stop, then
      // reconciles what the server says it assigned with what arrived (bounded by the drain).
      await Promise.all(live.map(u => u.endEventStreams(plan.drainMs)))
    }

    if (!aborted && scenario.teardown !== undefined) {
      await Promise.all(live.map(async (u) => {
        try {
          await withTimeout(() => scenario.teardown!(u), task.teardownTimeoutMs, `teardown of ${u.name}`)
        } catch (err) {
          errors.add('teardown', u.name, err)
          recorder.count(METRICS.errors)
        }
      }))
    }
  } finally {
    clearInterval(ticker)
    watched = users.flatMap(u => [u, ...u.sockets()]).map(o => new WeakRef(o))
    await Promise.allSettled(users.map(u => u.close(aborted)))
    users.length = 0 // the engine's last references: from here on only a leak keeps them alive
    live.length = 0
    port.removeAllListeners('message')
    port.close()
  }
  return {
    result: {
      cohortId: cohort.id,
      threadId,
      delta: recorder.flush(),
      errors: errors.drain(),
      violations: isolation.drain(),
      completed,
      lost,
      interrupted: cohort.size - completed - lost
    },
    watched
  }
}

/**
 * Engine self-check: after teardown a full GC (node:inspector works in worker threads, where
 * --expose-gc does not) must collect every user context and socket, so the engine's own growth
 * is never mistaken for the target's. Users still referenced (by a scenario's module state, or
 * an iteration that never ended) are counted.
 */
async function countRetained (refs: Array<WeakRef<object>>): Promise<number> {
  if (refs.length === 0) return 0
  await yieldToLoop() // WeakRef targets stay alive until the job that made them ends
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.collectGarbage')
  } finally {
    session.disconnect()
  }
  return refs.filter(r => r.deref() !== undefined).length
}
