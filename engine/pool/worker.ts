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
import { GO, READY, STOP, STOP_ABORT, STOP_GRACEFUL, STOP_NONE, waitUntilChanged } from '../shared/index.js'
import { runClosedLoad, wantedUsers } from './closed-load.js'
import { runOpenLoad } from './open-load.js'
import type { LoadPhase } from './load-phase.js'
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
  const active = { value: 0 }
  let aborted = false
  let loadStartEpochMs: number | undefined
  const directoryArrived = new Promise<void>((resolve) => {
    port.on('message', (m: DirectoryMessage) => {
      if (m.type === 'directory') {
        isolation.directory = directoryOf(m.buffer)
        loadStartEpochMs = m.loadStartEpochMs
        resolve()
      }
    })
  })

  const tick = (coversUntilEpochMs?: number): void => {
    const msg: TickMessage = { type: 'tick', cohortId: cohort.id, threadId, delta: recorder.flush(), active: active.value, errors: errors.drain(), violations: isolation.drain(), coversUntilEpochMs }
    port.postMessage(msg)
  }
  // Ticks fall on the run clock's tick boundaries in every cohort, and each says which interval it
  // covers, so per-second series count each second's work in that second, whatever the thread.
  let ticker: NodeJS.Timeout | undefined
  let lastBoundary = -Infinity
  const scheduleTick = (): void => {
    const now = performance.timeOrigin + performance.now()
    // the next boundary after the last one (a timer may fire a hair before its boundary)
    const boundary = Math.max(lastBoundary + task.tickMs, task.originEpochMs + Math.floor((now - task.originEpochMs) / task.tickMs + 1) * task.tickMs)
    lastBoundary = boundary
    ticker = setTimeout(() => { tick(boundary); scheduleTick() }, boundary - now)
  }
  scheduleTick()

  const users: UserContext<object>[] = []
  const newUser = (): UserContext<object> => {
    const u = new UserContext<object>({
      id: cohort.firstUser + users.length,
      runId: task.runId,
      origin: task.origin,
      timeoutMs: task.requestTimeoutMs,
      recorder,
      threadId,
      cohortId: cohort.id,
      isolation
    })
    users.push(u)
    return u
  }
  for (let i = 0; i < cohort.initialUsers; i++) newUser()
  let onAborted!: () => void
  const abortedSignal = new Promise<void>(resolve => { onAborted = resolve })
  const abortAll = (): void => {
    if (aborted) return
    aborted = true
    for (const u of users) void u.close(true)
    onAborted()
  }
  let onStopping!: () => void
  const stopped = new Promise<void>(resolve => { onStopping = resolve })
  let cutoff: NodeJS.Timeout | undefined
  // An interrupt or the hard deadline aborts in-flight work at once; a graceful stop (a failed
  // abortOnFail threshold, a breakpoint found) starts no new iterations and gives in-flight ones
  // the graceful stop.
  void waitUntilChanged(barrier, STOP, STOP_NONE).then((v) => {
    onStopping()
    if (v === STOP_ABORT) abortAll()
    else if (v === STOP_GRACEFUL) { clearTimeout(cutoff); cutoff = setTimeout(abortAll, plan.gracefulStopMs) }
  })

  let lost = 0
  let completed = 0
  let allocated = 0
  let watched: Array<WeakRef<object>> = []
  // users whose setup succeeded; emptied at the end like `users`: pending waiters (the stop
  // watcher's Atomics.waitAsync lives until the run ends) keep closures over this scope alive
  const live: UserContext<object>[] = []
  try {
    const scenario = await loadOnce(task.scenarioUrl)
    const setUp = async (u: UserContext<object>): Promise<boolean> => {
      try {
        if (scenario.setup !== undefined) await withTimeout(() => scenario.setup!(u), task.setupTimeoutMs, `setup of ${u.name}`)
        live.push(u)
        return true
      } catch (err) {
        lost++
        errors.add('setup', u.name, err)
        return false
      }
    }

    // Setup: every initial user, concurrently; a user whose setup fails sits out the load phase.
    const setupOk = await Promise.all(users.map(setUp))
    Atomics.add(barrier, READY, users.length)
    Atomics.notify(barrier, READY)
    const activeAtStart = plan.model === 'open' ? live.length : setupOk.slice(0, wantedUsers({ plan, cohort }, 0)).filter(Boolean).length
    const ready: ReadyMessage = { type: 'ready', cohortId: cohort.id, threadId, setupFailed: lost, activeAtStart, directory: live.map(u => u.directoryEntry()) }
    port.postMessage(ready)

    // Start barrier: all users of all initial cohorts start together; a late cohort finds it open.
    await waitUntilChanged(barrier, GO, 0)
    if (Atomics.load(barrier, STOP) === STOP_NONE) {
      // sent with or just before the release, but messages may trail the Atomics store
      await Promise.race([directoryArrived, new Promise(resolve => setTimeout(resolve, DIRECTORY_WAIT_MS))])
    }

    const start = loadStartEpochMs === undefined ? performance.now() : loadStartEpochMs - performance.timeOrigin
    const deadline = start + (plan.durationMs === null ? plan.maxDurationMs : Math.min(plan.durationMs, plan.maxDurationMs))
    // In-flight iterations get the graceful stop after the deadline; then they are cut.
    cutoff = setTimeout(abortAll, Math.max(0, deadline - performance.now()) + plan.gracefulStopMs)
    const lp: LoadPhase = {
      scenario,
      plan,
      cohort,
      recorder,
      errors,
      start,
      deadline,
      stopping: () => aborted || Atomics.load(barrier, STOP) !== STOP_NONE,
      aborted: () => aborted,
      stopped,
      active,
      countedAtStart: !task.late
    }

    if (!lp.stopping()) {
      const running = plan.model === 'closed'
        ? runClosedLoad(lp, users.map((u, i) => setupOk[i] === true ? u : undefined)).then((n) => { completed = n })
        : runOpenLoad(lp, {
          live: [...live],
          room: () => users.length < cohort.size,
          grow: async () => {
            const u = newUser()
            return await setUp(u) ? u : undefined
          }
        }).then(() => { if (!aborted) completed = live.length })
      tick() // users count themselves active synchronously: this first tick reports them as the load phase starts
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
    clearTimeout(ticker)
    clearTimeout(cutoff)
    watched = users.flatMap(u => [u, ...u.sockets()]).map(o => new WeakRef(o))
    await Promise.allSettled(users.map(u => u.close(aborted)))
    allocated = users.length
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
      allocated,
      completed,
      lost,
      interrupted: Math.max(0, allocated - completed - lost)
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
