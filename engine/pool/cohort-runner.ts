// Main-thread side of a run: cohorts as Piscina tasks, ticks merged as they arrive, the start
// barrier released once every cohort is set up, and bounded shutdown on interrupt, worker
// failure or a hard deadline. Whatever happens, run() resolves with what was measured.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import { encodeDirectory, type DirectoryEntry, type IsolationAggregator } from '../isolation/index.js'
import { createBarrier, signal, GO, PARTIES, STOP, STOP_ABORT } from './barrier.js'
import { ErrorGroups } from './error-groups.js'
import type { CohortPlan, CohortResult, CohortSpec, CohortTask, DirectoryMessage, ErrorGroup, WorkerMessage } from './messages.js'

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
  users: { planned: number, completed: number, lost: number, interrupted: number, setupFailed: number }
  selfCheck: { checked: number, retained: number }
  /** distinct worker threads that ran cohorts */
  threadsUsed: number
  errors: ErrorGroup[]
  /** cohorts that failed outright (worker crash, pool error) */
  failures: string[]
}

/** After an abort, tasks get this long to return before the pool is destroyed. */
const ABORT_GRACE_MS = 1500
const DONE = 3

interface CohortState { spec: CohortSpec, ready: boolean, settled: boolean, port: MessagePort, live: number }

export class CohortRunner {
  readonly #o: CohortRunnerOptions

  constructor (options: CohortRunnerOptions) {
    this.#o = options
  }

  async run (): Promise<CohortOutcome> {
    const o = this.#o
    const agg = o.aggregator
    const { buffer, view } = createBarrier()
    const errors = new ErrorGroups()
    const threads = new Set<number>()
    const directory: DirectoryEntry[] = []
    const states: CohortState[] = []
    const failures: string[] = []
    const users = { planned: 0, completed: 0, lost: 0, interrupted: 0, setupFailed: 0 }
    const selfCheck = { checked: 0, retained: 0 }
    let interrupted = false
    let loadStartedAt: number | null = null
    const timers: NodeJS.Timeout[] = []

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
    const markReady = (c: CohortState): void => {
      if (c.ready) return
      c.ready = true
      if (++readyCount === o.cohorts.length) onAllReady()
    }

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

    const tasks = o.cohorts.map(spec => {
      users.planned += spec.size
      const source = `cohort-${spec.id}`
      const { port1, port2 } = new MessageChannel()
      const state: CohortState = { spec, ready: false, settled: false, port: port1, live: 0 }
      states.push(state)
      port1.on('message', (m: WorkerMessage) => {
        const now = performance.now()
        threads.add(m.threadId)
        if (m.type === 'ready') {
          users.setupFailed += m.setupFailed
          state.live = spec.size - m.setupFailed
          for (const e of m.directory) directory.push(e)
          markReady(state)
          return
        }
        agg.add(m.delta, source, now)
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
        barrier: buffer,
        port: port2,
        secret: o.secret,
        isolation: { scan: o.scan, barrierTimeoutMs: o.barrierTimeoutMs }
      }
      return (pool.run(task, { transferList: [port2] }) as Promise<CohortResult>).then((res) => {
        const now = performance.now()
        threads.add(res.threadId)
        agg.add(res.delta, source, now)
        agg.setGauge(METRICS.usersActive, source, 0, now)
        for (const g of res.errors) errors.merge(g)
        o.isolation.add(res.violations)
        users.completed += res.completed
        users.lost += res.lost
        users.interrupted += res.interrupted
        selfCheck.checked += res.selfCheck.checked
        selfCheck.retained += res.selfCheck.retained
      }, (err: Error) => {
        agg.setGauge(METRICS.usersActive, source, 0, performance.now())
        if (interrupted || destroyed) {
          users.interrupted += spec.size
        } else {
          // A crashed cohort loses its users: reported, never counted as success.
          users.lost += spec.size
          failures.push(`cohort ${spec.id} (users ${spec.firstUser}-${spec.firstUser + spec.size - 1}): ${err.message}`)
          errors.merge({ phase: state.ready ? 'iteration' : 'setup', message: `worker failed: ${err.message}`, code: 'CT_ERR_WORKER', user: `user-${spec.firstUser}`, count: spec.size })
        }
      }).finally(() => {
        state.settled = true
        markReady(state)
        // Ticks posted just before the task ended are still queued on the port: drain them first.
        setImmediate(() => port1.close())
      })
    })

    // Start barrier: every cohort set up (or failed), bounded by the setup timeout.
    const setupDeadline = setTimeout(() => onAllReady(), o.setupTimeoutMs + 10_000)
    timers.push(setupDeadline)
    await allReady
    if (Atomics.load(view, STOP) !== STOP_ABORT) {
      // who owns what, for probes across threads; then every set-up user is a burst party
      const shared = encodeDirectory(directory)
      for (const c of states) {
        if (!c.settled) c.port.postMessage({ type: 'directory', buffer: shared } satisfies DirectoryMessage)
      }
      Atomics.store(view, PARTIES, states.reduce((n, c) => n + (c.settled ? 0 : c.live), 0))
      loadStartedAt = performance.now()
      signal(view, GO, 1)
      o.onLoadStart?.(loadStartedAt)
      // Hard deadline: nothing outlives plan + graceful stop + drain + teardown (+ slack).
      const hard = o.plan.maxDurationMs + o.plan.gracefulStopMs + o.plan.drainMs + o.teardownTimeoutMs + 10_000
      timers.push(setTimeout(() => {
        failures.push(`hard deadline of ${hard} ms reached: remaining users aborted`)
        abort()
      }, hard))
    }

    await Promise.allSettled(tasks)
    const loadEndedAt = performance.now()
    for (const t of timers) clearTimeout(t)
    o.signal?.removeEventListener('abort', onSignal)
    signal(view, STOP, DONE) // wakes the workers' pending stop watchers
    if (!destroyed) { destroyed = true; await pool.destroy() }

    return { interrupted, loadStartedAt, loadEndedAt, users, selfCheck, threadsUsed: threads.size, errors: errors.list(), failures }
  }
}
