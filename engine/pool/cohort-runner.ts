// Main-thread side of a run: cohorts as Piscina tasks, ticks merged as they arrive, the start
// barrier released once every cohort is set up, and bounded shutdown on interrupt, worker
// failure or a hard deadline. Whatever happens, run() resolves with what was measured.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import { encodeDirectory, type DirectoryEntry, type IsolationAggregator } from '../isolation/index.js'
import { createControlBlock, signal, GO, PARTIES, STOP, STOP_ABORT, STOP_DONE, STOP_GRACEFUL, STOP_NONE } from '../shared/index.js'
import type { ErrorGroup } from '../result/index.js'
import { ErrorGroups } from './error-groups.js'
import type { CohortPlan, CohortResult, CohortSpec, CohortTask, DirectoryMessage, WorkerMessage } from './messages.js'

export interface CohortRunnerOptions {
  runId: string
  scenarioUrl: string
  origin: string
  cohorts: CohortSpec[]
  plan: CohortPlan
  threads: number
  setupTimeoutMs: number
  teardownTimeoutMs: number
  requestTimeoutMs: number
  tickMs: number
  /** performance.now() of the run's start: the time series' origin */
  runStartedAt: number
  aggregator: MetricsAggregator
  isolation: IsolationAggregator
  secret: string
  scan: boolean
  barrierTimeoutMs: number
  signal?: AbortSignal | undefined
  /** called when the start barrier opens */
  onLoadStart?: ((at: number) => void) | undefined
}

export interface CohortOutcome {
  interrupted: boolean
  /** performance.now() at the start barrier's release, or null if it never opened */
  loadStartedAt: number | null
  loadEndedAt: number
  users: { planned: number, allocated: number, completed: number, lost: number, interrupted: number, setupFailed: number }
  selfCheck: { checked: number, retained: number }
  /** distinct worker threads that ran cohorts */
  threadsUsed: number
  errors: ErrorGroup[]
  /** cohorts that failed outright (worker crash, pool error) */
  failures: string[]
}

/** After an abort, tasks get this long to return before the pool is destroyed. */
const ABORT_GRACE_MS = 1500
/** a later cohort is submitted this long before it is first needed, so its users are set up in time */
const SUBMIT_LEAD_MS = 1000

interface CohortState { spec: CohortSpec, late: boolean, ready: boolean, settled: boolean, port: MessagePort, live: number, activeAtStart: number }

export class CohortRunner {
  readonly #o: CohortRunnerOptions

  constructor (options: CohortRunnerOptions) {
    this.#o = options
  }

  /** Graceful stop (a failed abortOnFail threshold, a breakpoint found): no new iterations or cohorts. */
  stop (): void {
    this.#stopRequested = true
    if (this.#view !== undefined && Atomics.load(this.#view, STOP) === STOP_NONE) signal(this.#view, STOP, STOP_GRACEFUL)
  }

  #stopRequested = false
  #view: Int32Array | undefined

  async run (): Promise<CohortOutcome> {
    const o = this.#o
    const agg = o.aggregator
    const { buffer, view } = createControlBlock()
    this.#view = view
    const errors = new ErrorGroups()
    const threads = new Set<number>()
    const directory: DirectoryEntry[] = []
    const states: CohortState[] = []
    const failures: string[] = []
    const users = { planned: o.cohorts.reduce((n, c) => n + c.size, 0), allocated: 0, completed: 0, lost: 0, interrupted: 0, setupFailed: 0 }
    const selfCheck = { checked: 0, retained: 0 }
    let interrupted = false
    let loadStartedAt: number | null = null
    const timers: NodeJS.Timeout[] = []
    // cohorts needed within the lead time are set up before the start; later ones are submitted as the plan reaches them
    const initial = o.cohorts.filter(c => c.startAtMs <= SUBMIT_LEAD_MS)
    const later = o.cohorts.filter(c => c.startAtMs > SUBMIT_LEAD_MS)

    const pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: o.threads,
      maxThreads: o.threads,
      // every cohort must run at once: a queued cohort would never reach the start barrier
      concurrentTasksPerWorker: Math.ceil(o.cohorts.length / o.threads),
      atomics: 'disabled',
      idleTimeout: 60_000
    })

    let readyCount = 0
    let onAllReady!: () => void
    const allReady = new Promise<void>(resolve => { onAllReady = resolve })
    if (initial.length === 0) onAllReady()
    const markReady = (c: CohortState): void => {
      if (c.ready) return
      c.ready = true
      if (!c.late && ++readyCount === initial.length) onAllReady()
    }
    const directoryMessage = (): DirectoryMessage => ({
      type: 'directory',
      buffer: encodeDirectory(directory),
      loadStartEpochMs: performance.timeOrigin + (loadStartedAt ?? performance.now())
    })

    let destroyed = false
    const destroyPool = (): void => {
      if (destroyed) return
      destroyed = true
      void pool.destroy()
    }
    const abort = (): void => {
      signal(view, STOP, STOP_ABORT)
      signal(view, GO, 1)
      onAllReady()
      timers.push(setTimeout(destroyPool, ABORT_GRACE_MS))
    }
    const onSignal = (): void => { interrupted = true; abort() }
    if (o.signal?.aborted === true) onSignal()
    o.signal?.addEventListener('abort', onSignal, { once: true })

    const tasks: Array<Promise<void>> = []
    const submit = (spec: CohortSpec, late: boolean): void => {
      const source = `cohort-${spec.id}`
      const { port1, port2 } = new MessageChannel()
      const state: CohortState = { spec, late, ready: false, settled: false, port: port1, live: 0, activeAtStart: 0 }
      states.push(state)
      port1.on('message', (m: WorkerMessage) => {
        const now = performance.now()
        threads.add(m.threadId)
        if (m.type === 'ready') {
          users.setupFailed += m.setupFailed
          state.live = spec.initialUsers - m.setupFailed
          state.activeAtStart = m.activeAtStart
          for (const e of m.directory) directory.push(e)
          markReady(state)
          // a cohort that joins a running load gets the directory as it stands and the start's clock
          if (late) port1.postMessage(directoryMessage())
          return
        }
        // counted in the middle of the interval the tick covers, not when it happened to arrive
        agg.add(m.delta, source, m.coversUntilEpochMs === undefined ? now : m.coversUntilEpochMs - performance.timeOrigin - o.tickMs / 2)
        agg.setGauge(METRICS.usersActive, source, m.active, now)
        for (const g of m.errors) errors.merge(g)
        o.isolation.add(m.violations)
      })
      const task: CohortTask = {
        runId: o.runId,
        cohort: spec,
        scenarioUrl: o.scenarioUrl,
        origin: o.origin,
        plan: o.plan,
        setupTimeoutMs: o.setupTimeoutMs,
        teardownTimeoutMs: o.teardownTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        tickMs: o.tickMs,
        originEpochMs: performance.timeOrigin + o.runStartedAt,
        barrier: buffer,
        late,
        port: port2,
        secret: o.secret,
        isolation: { scan: o.scan, barrierTimeoutMs: o.barrierTimeoutMs }
      }
      tasks.push((pool.run(task, { transferList: [port2] }) as Promise<CohortResult>).then((res) => {
        const now = performance.now()
        threads.add(res.threadId)
        agg.add(res.delta, source, now)
        agg.setGauge(METRICS.usersActive, source, 0, now)
        for (const g of res.errors) errors.merge(g)
        o.isolation.add(res.violations)
        users.allocated += res.allocated
        users.completed += res.completed
        users.lost += res.lost
        users.interrupted += res.interrupted
        selfCheck.checked += res.selfCheck.checked
        selfCheck.retained += res.selfCheck.retained
      }, (err: Error) => {
        agg.setGauge(METRICS.usersActive, source, 0, performance.now())
        users.allocated += spec.initialUsers
        if (interrupted || destroyed) {
          users.interrupted += spec.initialUsers
        } else {
          // A crashed cohort loses its users: reported, never counted as success.
          users.lost += spec.initialUsers
          failures.push(`cohort ${spec.id} (users ${spec.firstUser}-${spec.firstUser + spec.size - 1}): ${err.message}`)
          errors.merge({ phase: state.ready ? 'iteration' : 'setup', message: `worker failed: ${err.message}`, code: 'CT_ERR_WORKER', user: `user-${spec.firstUser}`, count: spec.initialUsers })
        }
      }).finally(() => {
        state.settled = true
        markReady(state)
        // Ticks posted just before the task ended are still queued on the port: drain them first.
        setImmediate(() => port1.close())
      }))
    }
    for (const spec of initial) submit(spec, false)

    let laterDone: Promise<void> = Promise.resolve()
    // Start barrier: every initial cohort set up (or failed), bounded by the setup timeout.
    const setupDeadline = setTimeout(() => onAllReady(), o.setupTimeoutMs + 10_000)
    timers.push(setupDeadline)
    await allReady
    if (Atomics.load(view, STOP) !== STOP_ABORT) {
      // who owns what, for probes across threads; then every set-up user is a burst party
      loadStartedAt = performance.now()
      const message = directoryMessage()
      for (const c of states) {
        if (!c.settled) c.port.postMessage(message)
      }
      Atomics.store(view, PARTIES, states.reduce((n, c) => n + (c.settled ? 0 : c.activeAtStart), 0))
      signal(view, GO, 1)
      if (this.#stopRequested) signal(view, STOP, STOP_GRACEFUL)
      o.onLoadStart?.(loadStartedAt)
      // a rising profile: each later cohort is submitted ahead of the moment it is first needed
      const startedAt = loadStartedAt
      const pending = new Set(later)
      for (const spec of later) {
        timers.push(setTimeout(() => {
          pending.delete(spec)
          if (Atomics.load(view, STOP) === STOP_NONE && !destroyed) submit(spec, true)
        }, Math.max(0, startedAt + spec.startAtMs - SUBMIT_LEAD_MS - performance.now())))
      }
      // tasks grows as cohorts are submitted: wait until none is pending and every one settled
      laterDone = (async () => {
        while (pending.size > 0 && Atomics.load(view, STOP) === STOP_NONE && !destroyed) await new Promise(resolve => setTimeout(resolve, 50))
      })()
      // Hard deadline: nothing outlives plan + graceful stop + drain + teardown (+ slack).
      const hard = o.plan.maxDurationMs + o.plan.gracefulStopMs + o.plan.drainMs + o.teardownTimeoutMs + 10_000
      timers.push(setTimeout(() => {
        failures.push(`hard deadline of ${hard} ms reached: remaining users aborted`)
        abort()
      }, hard))
    }

    await laterDone
    for (let seen = -1; seen !== tasks.length;) {
      seen = tasks.length
      await Promise.allSettled(tasks)
    }
    const loadEndedAt = performance.now()
    for (const t of timers) clearTimeout(t)
    o.signal?.removeEventListener('abort', onSignal)
    signal(view, STOP, STOP_DONE) // wakes the workers' pending stop watchers
    if (!destroyed) { destroyed = true; await pool.destroy() }

    return { interrupted, loadStartedAt, loadEndedAt, users, selfCheck, threadsUsed: threads.size, errors: errors.list(), failures }
  }
}
