// One cohort of users in a worker thread, as an explicit lifecycle:
//   created -> setup -> ready (at the start barrier) -> load -> draining -> teardown -> done
// or `aborted` from any state before `done` (an interrupt, the hard deadline, or the cut-off of a
// graceful stop). Each step is a method; each is a no-op once the cohort was aborted.
import { threadId } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { UserContext, UserMetrics, type RunView } from '../context/index.js'
import { TimeoutError } from '../errors.js'
import { CohortIsolation, type Directory } from '../isolation/index.js'
import { METRICS, MetricsRecorder } from '../metrics/index.js'
import type { Scenario } from '../scenario/index.js'
import { BEAT_ENDED, CohortSlot, GO, Lifecycle, READY, registerRowSecrets, STOP, STOP_ABORT, STOP_GRACEFUL, STOP_NONE, delay, mapLimited, waitUntilChanged, withTimeout, type Transitions } from '../shared/index.js'
import { runClosedLoad, wantedUsers } from './closed-load.js'
import { ErrorBackoff, waitUnless } from './error-backoff.js'
import { ErrorGroups } from './error-groups.js'
import { IterationGate } from './load-gate.js'
import type { LoadPhase, User } from './load-phase.js'
import type { ByeMessage, CohortResult, CohortTask, DirectoryMessage, ReadyMessage, TickMessage } from './messages.js'
import { runOpenLoad } from './open-load.js'
import { Ticker } from './ticker.js'

export type WorkerCohortState = 'created' | 'setup' | 'ready' | 'load' | 'draining' | 'teardown' | 'done' | 'aborted'

const TRANSITIONS: Transitions<WorkerCohortState> = {
  created: ['setup', 'aborted'],
  setup: ['ready', 'aborted'],
  // a run stopped before the start barrier opened skips its load phase
  ready: ['load', 'draining', 'aborted'],
  load: ['draining', 'aborted'],
  draining: ['teardown', 'aborted'],
  teardown: ['done', 'aborted'],
  done: [],
  aborted: []
}

/** How long a cohort waits for the directory after the start barrier opened. */
const DIRECTORY_WAIT_MS = 5000
/** After an abort, how long in-flight iterations get to notice their closed connections. */
const ABORT_SETTLE_MS = 200
/** how often the cohort beats in its watchdog slot (the watchdog's bound is seconds) */
const BEAT_MS = 250
/** the user of an error no user's call returned (an unhandled rejection) */
const UNKNOWN_USER = '(unknown: unhandled rejection)'

export interface WorkerCohortSources {
  /** the scenario module (imported once per thread) */
  scenario: () => Promise<Scenario<object>>
  /** the run-wide directory from its shared buffer, one per `key` and thread (the run and its size) */
  directory: (buffer: SharedArrayBuffer, key: string) => Directory
}

export interface WorkerCohortOutcome {
  result: Omit<CohortResult, 'selfCheck'>
  /** the cohort's user contexts and sockets, for the engine's self-check once they are released */
  watched: Array<WeakRef<object>>
}

export class WorkerCohort {
  readonly lifecycle = new Lifecycle<WorkerCohortState>('cohort', 'created', TRANSITIONS)
  readonly #task: CohortTask
  readonly #sources: WorkerCohortSources
  readonly #port: MessagePort
  readonly #control: Int32Array
  readonly #recorder: MetricsRecorder
  /** the scenario's custom metrics, shared by the cohort's users */
  readonly #metrics: UserMetrics
  readonly #errors = new ErrorGroups()
  /** an extractor of any user of the cohort that threw: one function for all of them */
  readonly #onScenarioError = (user: string, err: Error): void => { this.#errors.add('iteration', user, err) }
  readonly #isolation: CohortIsolation
  readonly #ticker: Ticker
  readonly #active = { value: 0 }
  /** heartbeat and current scenario call, read by the main thread's watchdog */
  readonly #slot: CohortSlot
  #beat: NodeJS.Timeout | undefined
  #loadEndedEpochMs: number | null = null
  /** every user created; emptied on release (pending waiters keep this object alive until the run ends) */
  readonly #users: User[] = []
  /** users whose setup succeeded */
  readonly #live: User[] = []
  readonly #directoryArrived: Promise<void>
  readonly #stopped: Promise<void>
  /** called on abort; each is removed by its waiter when done, so no settled wait stays reachable */
  readonly #abortListeners = new Set<() => void>()
  #onStopping!: () => void
  #scenario: Scenario<object> | undefined
  /** `user.run` of every user of this cohort: the run data, frozen once, shared read-only */
  readonly #run: RunView | undefined
  #setupOk: boolean[] = []
  #loadStartEpochMs: number | undefined
  #start = 0
  #cutoff: NodeJS.Timeout | undefined
  #counts = { lost: 0, completed: 0, allocated: 0 }

  constructor (task: CohortTask, sources: WorkerCohortSources) {
    this.#task = task
    this.#sources = sources
    this.#port = task.port
    this.#recorder = new MetricsRecorder(task.maxRequestNames)
    this.#metrics = new UserMetrics(this.#recorder)
    this.#control = new Int32Array(task.barrier)
    this.#slot = new CohortSlot(this.#control, task.cohort.id)
    this.#slot.claim(threadId)
    this.#isolation = new CohortIsolation({
      secret: task.secret,
      runId: task.runId,
      scan: task.isolation.scan,
      threadId,
      recorder: this.#recorder,
      control: this.#control,
      barrierTimeoutMs: task.isolation.barrierTimeoutMs
    })
    this.#directoryArrived = new Promise<void>((resolve) => {
      this.#port.on('message', (m: DirectoryMessage) => {
        if (m.type !== 'directory') return
        this.#isolation.directory = sources.directory(m.buffer, `${task.runId}:${m.entries}`)
        this.#loadStartEpochMs = m.loadStartEpochMs
        resolve()
      })
    })
    this.#stopped = new Promise<void>(resolve => { this.#onStopping = resolve })
    this.#ticker = new Ticker(task.originEpochMs, task.tickMs, c => this.#tick(c))
    // error messages are built and redacted here, in the worker: its rows' secrets must be known
    for (const row of task.rows ?? []) registerRowSecrets(row)
    registerRowSecrets(task.runData)
    this.#run = task.runData === undefined ? undefined : Object.freeze({ data: deepFreeze(task.runData) })
    for (let i = 0; i < task.cohort.initialUsers; i++) this.#newUser()
    this.#watchStop()
  }

  get aborted (): boolean {
    return this.lifecycle.is('aborted')
  }

  /**
   * A promise of the scenario's rejected with nobody handling it: one counted error of the
   * current phase, not a dead worker. Which user left it is unknown (knowing would mean tracking
   * every promise's async context, too costly per event); its `at` still names the scenario's
   * line. Work cut by an abort is neither a result nor an error, as for iterations.
   */
  strayRejection (err: unknown): void {
    if (this.aborted || this.lifecycle.is('done')) return
    const phase = this.lifecycle.is('created') || this.lifecycle.is('setup') ? 'setup' : this.lifecycle.is('teardown') ? 'teardown' : 'iteration'
    this.#errors.add(phase, UNKNOWN_USER, err)
    this.#recorder.count(METRICS.errors)
  }

  /** Every step in order; whatever happens, the users are released and what was measured returned. */
  async run (): Promise<WorkerCohortOutcome> {
    let watched: Array<WeakRef<object>> = []
    try {
      await this.setUp()
      await this.waitForStart()
      await this.runLoad()
      await this.drain()
      await this.tearDown()
    } finally {
      watched = await this.#release()
    }
    return { result: this.#result(), watched }
  }

  /** created -> setup -> ready: every initial user's setup, concurrently; tells the main thread. */
  async setUp (): Promise<void> {
    this.lifecycle.to('setup')
    this.#beatNow()
    this.#beat = setInterval(() => this.#beatNow(), BEAT_MS)
    this.#ticker.start()
    this.#scenario = await this.#sources.scenario()
    this.#metrics.declare(this.#scenario.metrics)
    for (const u of this.#users) u.useScenarioTags(this.#scenario.tags)
    this.#setupOk = await mapLimited(this.#users, this.#task.cohort.setupShare, u => this.#setUpUser(u))
    Atomics.add(this.#control, READY, this.#users.length)
    Atomics.notify(this.#control, READY)
    const { plan, cohort } = this.#task
    // a scenario that starts later has no user in the load at the barrier: each joins the bursts as it enters
    const activeAtStart = (plan.startTimeMs ?? 0) > 0 ? 0 : plan.model === 'open' ? this.#live.length : this.#setupOk.slice(0, wantedUsers({ plan, cohort }, 0)).filter(Boolean).length
    const ready: ReadyMessage = { type: 'ready', cohortId: cohort.id, threadId, setupFailed: this.#counts.lost, activeAtStart, directory: this.#live.map(u => u.directoryEntry()) }
    this.#port.postMessage(ready)
    this.lifecycle.tryTo('ready')
  }

  /** Waits at the start barrier (a late cohort finds it open), then arms the graceful-stop cut-off. */
  async waitForStart (): Promise<void> {
    await waitUntilChanged(this.#control, GO, 0)
    if (Atomics.load(this.#control, STOP) === STOP_NONE) {
      // sent with or just before the release, but messages may trail the Atomics store
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.#directoryArrived, new Promise(resolve => { timer = setTimeout(resolve, DIRECTORY_WAIT_MS) })])
      clearTimeout(timer)
    }
    const barrierAt = this.#loadStartEpochMs === undefined ? performance.now() : this.#loadStartEpochMs - performance.timeOrigin
    // the plan (profile, deadlines, cut-off) counts from this scenario's own start
    this.#start = barrierAt + (this.#task.plan.startTimeMs ?? 0)
    // in-flight iterations get the graceful stop after the load ends; then they are cut
    const cutAt = this.#start + this.#task.plan.deadlines.gracefulStopEndMs
    this.#armCutoff(cutAt - performance.now())
  }

  /** ready -> load -> draining: the executor's plan for this cohort's users. */
  async runLoad (): Promise<void> {
    if (this.aborted) return
    if (this.#stopping()) {
      this.lifecycle.to('draining')
      return
    }
    this.lifecycle.to('load')
    // a scenario with a startTime waits for it (a stop ends the wait: the plan then sees it stopping)
    await waitUnless(this.#start - performance.now(), this.#stopped)
    if (this.aborted) return
    const running = this.#runPlan(this.#loadPhase())
    this.#ticker.now() // users count themselves active synchronously: this tick reports them as the load starts
    // An abort closes every connection, so in-flight requests fail at once; an iteration stuck on
    // something else cannot be cancelled, so the cohort stops waiting for it shortly after.
    await this.#untilDoneOrAborted(running)
    // rates are computed over the time the load really ran, not the drain and teardown after it
    this.#loadEndedEpochMs = performance.timeOrigin + performance.now()
    clearTimeout(this.#cutoff)
    this.lifecycle.tryTo('draining')
  }

  /** draining -> teardown: each socket's event streams end and reconcile (bounded by the drain). */
  async drain (): Promise<void> {
    clearTimeout(this.#cutoff)
    if (!this.lifecycle.is('draining')) return
    await Promise.all(this.#live.map(u => u.endEventStreams(this.#task.plan.drainMs)))
    this.lifecycle.tryTo('teardown')
  }

  /** teardown -> done: the scenario's teardown for every set-up user, each bounded. */
  async tearDown (): Promise<void> {
    if (!this.lifecycle.is('teardown')) return
    const teardown = this.#scenario?.teardown
    if (teardown !== undefined) {
      await Promise.all(this.#live.map(async (u) => {
        try {
          // entered as the call starts (withTimeout defers it): entered up front, every user's
          // would be entered before any runs and the watchdog would name the last one
          await withTimeout(() => { this.#slot.enter('teardown', u.id); return teardown(u) }, this.#task.teardownTimeoutMs, () => new TimeoutError(`teardown of ${u.name} did not finish within ${this.#task.teardownTimeoutMs} ms`))
        } catch (err) {
          this.#errors.add('teardown', u.name, err)
          this.#recorder.count(METRICS.errors)
        }
      }))
    }
    this.lifecycle.tryTo('done')
  }

  /** Any state before done -> aborted: every connection is closed at once, in-flight work fails. */
  abort (): void {
    if (!this.lifecycle.tryTo('aborted')) return
    for (const u of this.#users) void u.close(true)
    for (const listener of this.#abortListeners) listener()
  }

  #newUser (): User {
    const t = this.#task
    const u = new UserContext<object>({
      id: (t.cohort.userBase ?? 0) + t.cohort.firstUser + this.#users.length,
      ...(t.rows !== null && { data: deepFreeze(t.rows[this.#users.length]) }),
      ...(this.#run !== undefined && { run: this.#run }),
      runId: t.runId,
      origin: t.origin,
      timeoutMs: t.requestTimeoutMs,
      body: t.body,
      recorder: this.#recorder,
      threadId,
      cohortId: t.cohort.id,
      isolation: this.#isolation,
      onScenarioError: this.#onScenarioError,
      metrics: this.#metrics
    })
    if (this.#scenario !== undefined) u.useScenarioTags(this.#scenario.tags)
    this.#users.push(u)
    return u
  }

  /**
   * A user whose setup fails sits out the load phase (counted lost). A setup the engine's abort
   * cut is neither lost nor an error: the user counts as interrupted (allocated, not completed).
   */
  async #setUpUser (u: User): Promise<boolean> {
    const setup = this.#scenario?.setup
    try {
      if (setup !== undefined) {
        // entered as the call starts (see tearDown)
        const bounded = withTimeout(() => { this.#slot.enter('setup', u.id); return setup(u) }, this.#task.setupTimeoutMs, () => new TimeoutError(`setup of ${u.name} did not finish within ${this.#task.setupTimeoutMs} ms`))
        // a setup stuck on something its closed connection does not end is not waited for after an abort
        void bounded.catch(() => {}) // still handled when the abort wins the race
        await this.#untilDoneOrAborted(bounded)
      }
      if (this.#task.preconnect && !this.aborted) await this.#untilDoneOrAborted(u.http.preconnect())
      if (this.aborted) return false
      this.#live.push(u)
      return true
    } catch (err) {
      if (this.aborted) return false
      this.#counts.lost++
      this.#errors.add('setup', u.name, err)
      this.#recorder.count(METRICS.errors) // the `errors` metric counts every phase's errors, as its thresholds expect
      return false
    }
  }

  /**
   * `work` settled, or ABORT_SETTLE_MS after an abort, whichever comes first. The abort listener
   * is removed when done: a wait on a never-resolving "aborted" promise would keep every caller's
   * frame (and its user) reachable until the run ends, which the self-check counts as a leak.
   */
  async #untilDoneOrAborted (work: Promise<unknown>): Promise<void> {
    let listener: (() => void) | undefined
    const aborted = new Promise<void>((resolve) => {
      listener = () => { void delay(ABORT_SETTLE_MS).then(resolve) }
      if (this.aborted) listener()
      else this.#abortListeners.add(listener)
    })
    try {
      await Promise.race([work, aborted])
    } finally {
      this.#abortListeners.delete(listener!)
    }
  }

  #stopping (): boolean {
    return this.aborted || Atomics.load(this.#control, STOP) !== STOP_NONE
  }

  #loadPhase (): LoadPhase {
    const t = this.#task
    return {
      scenario: this.#scenario!,
      plan: t.plan,
      cohort: t.cohort,
      recorder: this.#recorder,
      errors: this.#errors,
      backoff: new ErrorBackoff(t.plan.errorBackoffMs),
      slot: this.#slot,
      start: this.#start,
      deadline: this.#start + t.plan.deadlines.loadEndMs,
      stopping: () => this.#stopping(),
      aborted: () => this.aborted,
      stopped: this.#stopped,
      active: this.#active,
      gate: new IterationGate(this.#control),
      countedAtStart: !t.late && (t.plan.startTimeMs ?? 0) === 0
    }
  }

  async #runPlan (lp: LoadPhase): Promise<void> {
    if (lp.plan.model === 'closed') {
      const completed = await runClosedLoad(lp, this.#users.map((u, i) => this.#setupOk[i] === true ? u : undefined))
      this.#counts.completed = completed
      return
    }
    await runOpenLoad(lp, {
      live: [...this.#live],
      room: () => this.#users.length < lp.cohort.size,
      grow: async () => {
        const u = this.#newUser()
        return await this.#setUpUser(u) ? u : undefined
      }
    })
    if (!this.aborted) this.#counts.completed = this.#live.length
  }

  /** An interrupt or the hard deadline aborts at once; a graceful stop (abortOnFail, a breakpoint) cuts after the graceful stop. */
  #watchStop (): void {
    void waitUntilChanged(this.#control, STOP, STOP_NONE).then((v) => {
      this.#onStopping()
      if (v === STOP_ABORT) this.abort()
      else if (v === STOP_GRACEFUL) this.#armCutoff(this.#task.plan.gracefulStopMs)
    })
  }

  #armCutoff (inMs: number): void {
    clearTimeout(this.#cutoff)
    this.#cutoff = setTimeout(() => this.abort(), Math.max(0, inMs))
  }

  #beatNow (): void {
    this.#slot.beat(performance.timeOrigin + performance.now() - this.#task.originEpochMs)
  }

  #tick (coversUntilEpochMs?: number): void {
    const msg: TickMessage = {
      type: 'tick',
      cohortId: this.#task.cohort.id,
      threadId,
      delta: this.#recorder.flush(),
      active: this.#active.value,
      errors: this.#errors.drain(),
      violations: this.#isolation.drain(),
      coversUntilEpochMs
    }
    this.#port.postMessage(msg)
  }

  /** Closes every user and the port; from here on only a leak keeps the users alive. */
  async #release (): Promise<Array<WeakRef<object>>> {
    this.#ticker.stop()
    clearInterval(this.#beat)
    this.#slot.beat(BEAT_ENDED)
    clearTimeout(this.#cutoff)
    const watched = this.#users.flatMap(u => [u, ...u.sockets()]).map(o => new WeakRef(o))
    await Promise.allSettled(this.#users.map(u => u.close(this.aborted)))
    this.#counts.allocated = this.#users.length
    this.#users.length = 0
    this.#live.length = 0
    this.#setupOk = []
    this.#port.removeAllListeners('message')
    // the main thread closes the channel once this arrives: every tick before it has been read
    this.#port.postMessage({ type: 'bye', cohortId: this.#task.cohort.id } satisfies ByeMessage)
    return watched
  }

  #result (): Omit<CohortResult, 'selfCheck'> {
    const { lost, completed, allocated } = this.#counts
    return {
      cohortId: this.#task.cohort.id,
      threadId,
      delta: this.#recorder.flush(),
      errors: this.#errors.drain(),
      violations: this.#isolation.drain(),
      allocated,
      completed,
      lost,
      interrupted: Math.max(0, allocated - completed - lost),
      loadEndedEpochMs: this.#loadEndedEpochMs
    }
  }
}

/**
 * A row, frozen with everything in it: with reuse, users of one cohort may share a row object
 * (structured cloning keeps identity), so no user may change another's data.
 */
function deepFreeze<T> (value: T): T {
  // a typed array cannot be frozen (run data may hold one): it stays as it is
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
