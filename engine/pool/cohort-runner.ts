// Main-thread side of the load: cohorts as Piscina tasks, the start barrier released once every
// initial cohort is set up, later cohorts submitted as a rising profile reaches them, and a
// bounded shutdown. It takes its orders (graceful stop, abort) from the run controller and
// resolves with what was measured, whatever happened.
import { Piscina } from 'piscina'
import { encodeDirectory, type IsolationAggregator } from '../isolation/index.js'
import type { MetricsAggregator } from '../metrics/index.js'
import type { ErrorGroup } from '../result/index.js'
import { userRowOf, type UserRow } from '../scenario/index.js'
import { createControlBlock, signal, GO, PARTIES, STOP, STOP_ABORT, STOP_DONE, STOP_GRACEFUL, STOP_NONE } from '../shared/index.js'
import { CohortTotals, type UserCounts } from './cohort-totals.js'
import { CohortTracker } from './cohort-tracker.js'
import { LoadHold } from './load-gate.js'
import type { CohortPlan, CohortResult, CohortSpec, CohortTask, DirectoryMessage } from './messages.js'
import { Watchdog, watchdogBoundMs, type StuckThread } from './watchdog.js'

export interface CohortRunnerOptions {
  runId: string
  scenarioUrl: string
  origin: string
  cohorts: CohortSpec[]
  plan: CohortPlan
  threads: number
  setupTimeoutMs: number
  /** open each user's HTTP connection in setup */
  preconnect: boolean
  teardownTimeoutMs: number
  requestTimeoutMs: number
  body: { maxBytes: number, discard: boolean }
  maxRequestNames: number
  tickMs: number
  /** performance.now() of the run's start: the time series' origin */
  runStartedAt: number
  aggregator: MetricsAggregator
  isolation: IsolationAggregator
  secret: string
  /** the users file's rows (user id N gets row N % rows), or null */
  userRows: readonly UserRow[] | null
  /** what the scenario's `before` returned, sent to every cohort (`user.run.data`) */
  runData?: unknown
  scan: boolean
  barrierTimeoutMs: number
  /** called when the start barrier opens */
  onLoadStart?: ((at: number) => void) | undefined
  /**
   * once every initial cohort is set up and before the barrier opens: resolves when the load may
   * start (a shard's coordinated start); a rejection aborts the run before any load (`startFailure`)
   */
  startGate?: ((signal: AbortSignal) => Promise<void>) | undefined
  /**
   * a plan of several scenarios, by name: each cohort (CohortSpec.scenario) runs its entry's module
   * and plan instead of `scenarioUrl` and `plan`, and its metrics also go to the entry's aggregator
   */
  scenarios?: ReadonlyMap<string, RunnerScenario> | undefined
}

export interface RunnerScenario {
  scenarioUrl: string
  plan: CohortPlan
  aggregator: MetricsAggregator
}

export interface CohortOutcome {
  /** performance.now() at the start barrier's release, or null if it never opened */
  loadStartedAt: number | null
  /** when the cohorts that returned left their load phase (a thread ended by the watchdog does not stretch it) */
  loadEndedAt: number
  users: UserCounts
  selfCheck: { checked: number, retained: number }
  /** distinct worker threads that ran cohorts */
  threadsUsed: number
  errors: ErrorGroup[]
  /** cohorts that failed outright (worker crash, pool error) */
  failures: string[]
  /** a plan of several scenarios: each one's users, by name (empty: one scenario) */
  scenarioUsers: Map<string, UserCounts>
  /** why the start gate did not open (the load never started), or undefined */
  startFailure?: Error
}

/** After an abort, tasks get this long to return before the pool is destroyed. */
const ABORT_GRACE_MS = 1500
/** a later cohort is submitted this long before it is first needed, so its users are set up in time */
const SUBMIT_LEAD_MS = 1000
/** how often the runner looks whether the later cohorts of a ramp have all been submitted */
const PENDING_POLL_MS = 50

export class CohortRunner {
  readonly #o: CohortRunnerOptions
  readonly #control: ReturnType<typeof createControlBlock>
  readonly #watchdog: Watchdog
  readonly #totals: CohortTotals
  readonly #trackers: CohortTracker[] = []
  readonly #tasks: Array<Promise<void>> = []
  readonly #timers: NodeJS.Timeout[] = []
  readonly #initial: CohortSpec[]
  readonly #later: Set<CohortSpec>
  #pool: Piscina | undefined
  #readyCount = 0
  #onAllReady!: () => void
  readonly #allReady = new Promise<void>(resolve => { this.#onAllReady = resolve })
  #loadStartedAt: number | null = null
  /** the directory as last encoded, reused until more cohorts have published their users */
  #encoded: { entries: number, buffer: SharedArrayBuffer } | undefined
  #stopRequested = false
  #aborted = false
  #destroyed = false
  readonly #gateAbort = new AbortController()
  #startFailure: Error | undefined

  constructor (options: CohortRunnerOptions) {
    this.#o = options
    this.#control = createControlBlock(Math.max(0, ...options.cohorts.map(c => c.id + 1)))
    this.#watchdog = new Watchdog({
      view: this.#control.view,
      originEpochMs: performance.timeOrigin + options.runStartedAt,
      boundMs: watchdogBoundMs(options.tickMs),
      onStuck: s => this.#endStuckThread(s)
    })
    const planned = (name: string): number => options.cohorts.reduce((n, c) => n + (c.scenario === name ? c.size : 0), 0)
    const parts = new Map([...options.scenarios ?? []].map(([name, s]) => [name, { agg: s.aggregator, planned: planned(name) }]))
    this.#totals = new CohortTotals(options.cohorts.reduce((n, c) => n + c.size, 0), options.aggregator, options.isolation, options.tickMs, parts)
    // cohorts needed within the lead time are set up before the start; later ones are submitted as the plan reaches them
    this.#initial = options.cohorts.filter(c => c.startAtMs <= SUBMIT_LEAD_MS)
    this.#later = new Set(options.cohorts.filter(c => c.startAtMs > SUBMIT_LEAD_MS))
    if (this.#initial.length === 0) this.#onAllReady()
  }

  /** Holds new iterations for a quiet heap reading (leaks/leak-monitor.ts), across every cohort. */
  get loadHold (): LoadHold {
    return new LoadHold(this.#control.view)
  }

  /** Graceful stop (a failed abortOnFail threshold, a breakpoint found): no new iterations or cohorts. */
  stopGracefully (): void {
    this.#stopRequested = true
    const view = this.#control.view
    if (this.#loadStartedAt !== null && Atomics.load(view, STOP) === STOP_NONE) signal(view, STOP, STOP_GRACEFUL)
  }

  /** Abort now (interrupt, hard deadline, fatal error): in-flight work is cut, the pool destroyed soon after. */
  abort (): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#gateAbort.abort()
    const view = this.#control.view
    signal(view, STOP, STOP_ABORT)
    signal(view, GO, 1)
    this.#onAllReady()
    this.#timers.push(setTimeout(() => this.#destroyPool(), ABORT_GRACE_MS))
  }

  async run (): Promise<CohortOutcome> {
    this.#pool = this.#createPool()
    this.#watchdog.start(() => this.#trackers)
    if (this.#aborted) this.#onAllReady()
    for (const spec of this.#initial) this.#submit(spec, false)
    // the start barrier waits for every initial cohort (set up or failed), bounded
    this.#timers.push(setTimeout(() => this.#onAllReady(), this.#o.plan.deadlines.setupWaitMs))
    await this.#allReady
    await this.#passStartGate()
    if (!this.#aborted) {
      this.#openStartBarrier()
      this.#scheduleLater()
    }
    await this.#settleAll()
    this.#watchdog.stop()
    const settledAt = performance.now()
    const loadEndedAt = Math.max(this.#loadStartedAt ?? settledAt, Math.min(settledAt, this.#totals.loadEndedAt ?? settledAt))
    for (const t of this.#timers) clearTimeout(t)
    signal(this.#control.view, STOP, STOP_DONE) // wakes the workers' pending stop watchers
    if (!this.#destroyed) { this.#destroyed = true; await this.#pool.destroy() }
    const t = this.#totals
    return { loadStartedAt: this.#loadStartedAt, loadEndedAt, users: t.users, selfCheck: t.selfCheck, threadsUsed: t.threads.size, errors: t.errors.list(), failures: t.failures, scenarioUsers: t.scenarioUsers(), ...(this.#startFailure !== undefined && { startFailure: this.#startFailure }) }
  }

  /** Waits at the start gate, if any; its failure aborts the run before the barrier opens. */
  async #passStartGate (): Promise<void> {
    const gate = this.#o.startGate
    if (gate === undefined || this.#aborted) return
    try {
      await gate(this.#gateAbort.signal)
    } catch (err) {
      if (this.#aborted) return // interrupted while waiting: the interrupt is the outcome
      this.#startFailure = err instanceof Error ? err : new Error(String(err))
      this.abort()
    }
  }

  #createPool (): Piscina {
    const o = this.#o
    return new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: o.threads,
      maxThreads: o.threads,
      // every cohort must run at once: a queued cohort would never reach the start barrier
      concurrentTasksPerWorker: Math.ceil(o.cohorts.length / o.threads),
      atomics: 'disabled',
      idleTimeout: 60_000
    })
  }

  #submit (spec: CohortSpec, late: boolean): void {
    const o = this.#o
    const entry = this.#entry(spec)
    const tracker = new CohortTracker(spec, late, this.#totals, {
      onReady: t => this.#markReady(t),
      directoryMessage: () => this.#directoryMessage()
    })
    this.#trackers.push(tracker)
    const { task, transferList } = tracker.task({
      runId: o.runId,
      scenarioUrl: entry?.scenarioUrl ?? o.scenarioUrl,
      origin: o.origin,
      plan: entry?.plan ?? o.plan,
      setupTimeoutMs: o.setupTimeoutMs,
      teardownTimeoutMs: o.teardownTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      body: o.body,
      maxRequestNames: o.maxRequestNames,
      tickMs: o.tickMs,
      originEpochMs: performance.timeOrigin + o.runStartedAt,
      barrier: this.#control.buffer,
      secret: o.secret,
      rows: o.userRows === null ? null : Array.from({ length: spec.size }, (_v, i) => userRowOf(o.userRows!, (spec.userBase ?? 0) + spec.firstUser + i)),
      isolation: { scan: o.scan, barrierTimeoutMs: o.barrierTimeoutMs },
      preconnect: o.preconnect,
      ...(o.runData !== undefined && { runData: o.runData })
    } satisfies Omit<CohortTask, 'cohort' | 'late' | 'port'>)
    const run = this.#pool!.run(task, { transferList }) as Promise<CohortResult>
    this.#tasks.push(run.then(res => tracker.settle(res), (err: Error) => tracker.fail(err, this.#aborted || this.#destroyed)))
  }

  #entry (spec: CohortSpec): RunnerScenario | undefined {
    return spec.scenario === undefined ? undefined : this.#o.scenarios?.get(spec.scenario)
  }

  #markReady (t: CohortTracker): void {
    if (!t.late && ++this.#readyCount === this.#initial.length) this.#onAllReady()
  }

  #directoryMessage (): DirectoryMessage {
    const entries = this.#totals.directory.length
    // the directory only grows: encode it again only when cohorts have joined since
    if (this.#encoded?.entries !== entries) this.#encoded = { entries, buffer: encodeDirectory(this.#totals.directory) }
    return {
      type: 'directory',
      buffer: this.#encoded.buffer,
      entries,
      loadStartEpochMs: performance.timeOrigin + (this.#loadStartedAt ?? performance.now())
    }
  }

  /** Who owns what goes to every cohort, every set-up user becomes a burst party, then all start together. */
  #openStartBarrier (): void {
    const view = this.#control.view
    this.#loadStartedAt = performance.now()
    const message = this.#directoryMessage()
    for (const t of this.#trackers) t.send(message)
    Atomics.store(view, PARTIES, this.#trackers.reduce((n, t) => n + (t.settled ? 0 : t.activeAtStart), 0))
    signal(view, GO, 1)
    if (this.#stopRequested) signal(view, STOP, STOP_GRACEFUL)
    this.#o.onLoadStart?.(this.#loadStartedAt)
  }

  /** A rising profile: each later cohort is submitted ahead of the moment it is first needed. */
  #scheduleLater (): void {
    const startedAt = this.#loadStartedAt!
    for (const spec of this.#later) {
      this.#timers.push(setTimeout(() => {
        this.#later.delete(spec)
        if (Atomics.load(this.#control.view, STOP) === STOP_NONE && !this.#destroyed) this.#submit(spec, true)
      }, Math.max(0, startedAt + (this.#entry(spec)?.plan.startTimeMs ?? 0) + spec.startAtMs - SUBMIT_LEAD_MS - performance.now())))
    }
  }

  /** Until no later cohort is pending and every submitted task settled (tasks grows as cohorts join). */
  async #settleAll (): Promise<void> {
    const view = this.#control.view
    while (this.#later.size > 0 && Atomics.load(view, STOP) === STOP_NONE && !this.#destroyed) {
      await new Promise(resolve => setTimeout(resolve, PENDING_POLL_MS))
    }
    for (let seen = -1; seen !== this.#tasks.length;) {
      seen = this.#tasks.length
      await Promise.allSettled(this.#tasks)
    }
  }

  /** A thread stuck in a synchronous loop: named in the failures, its cohorts' users lost, the thread ended. */
  #endStuckThread (s: StuckThread): void {
    this.#totals.failures.push(s.line)
    const ids = new Set(s.cohorts.map(c => c.id))
    for (const t of this.#trackers) if (ids.has(t.spec.id)) t.lostTo = `thread ${s.threadId} terminated by the watchdog`
    void this.#pool?.threads.find(w => w.threadId === s.threadId)?.terminate()
  }

  #destroyPool (): void {
    if (this.#destroyed) return
    this.#destroyed = true
    void this.#pool?.destroy()
  }
}
