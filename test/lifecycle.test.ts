// The run lifecycle's classes on their own, without a network: the state table, the deadlines,
// the run controller's stop reasons, a worker cohort driven through its states on this thread
// (real user contexts, a real control block and MessagePort, a scenario that does no I/O), and
// the main thread's cohort tracker fed over a real MessageChannel.
import test from 'ava'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { IsolationAggregator } from '../engine/isolation/index.js'
import { MetricsAggregator, MetricsRecorder, METRICS } from '../engine/metrics/index.js'
import { planDeadlines, type CohortPlan, type CohortSpec } from '../engine/pool/index.js'
import { CohortTotals } from '../engine/pool/cohort-totals.js'
import { CohortTracker } from '../engine/pool/cohort-tracker.js'
import type { CohortResult, CohortTask, ReadyMessage, TickMessage, WorkerMessage } from '../engine/pool/messages.js'
import { ErrorBackoff } from '../engine/pool/error-backoff.js'
import { Watchdog, watchdogBoundMs } from '../engine/pool/watchdog.js'
import { WorkerCohort } from '../engine/pool/worker-cohort.js'
import { RunController, type Stoppable } from '../engine/runner/run-controller.js'
import { SHUTDOWN_STEPS, type ShutdownStep } from '../engine/runner/shutdown.js'
import type { Scenario } from '../engine/scenario/index.js'
import { BEAT_ENDED, BEAT_NONE, CohortSlot, createControlBlock, GO, Lifecycle, READY, signal, STOP, STOP_ABORT, STOP_DONE, STOP_GRACEFUL, type Transitions } from '../engine/shared/index.js'
import { IllegalTransitionError } from '../engine/shared/lifecycle.js'
import { Directory, encodeDirectory } from '../engine/isolation/index.js'

// --- Lifecycle -------------------------------------------------------------------------------

type Light = 'red' | 'green' | 'amber'
const LIGHTS: Transitions<Light> = { red: ['green'], green: ['amber'], amber: ['red'] }

test('a lifecycle moves only along its table and remembers where it has been', (t) => {
  const l = new Lifecycle<Light>('light', 'red', LIGHTS)
  l.to('green')
  t.true(l.is('green'))
  t.false(l.can('red'))
  const err = t.throws(() => l.to('red'), { instanceOf: IllegalTransitionError })
  t.is(err.message, "light: cannot go from 'green' to 'red'")
  t.false(l.tryTo('green'))
  t.true(l.tryTo('amber'))
  t.deepEqual(l.history, ['red', 'green', 'amber'])
})

// --- Deadlines -------------------------------------------------------------------------------

test('deadlines are computed once: the load ends at the duration, capped by maxDuration', (t) => {
  const base = { maxDurationMs: 600_000, gracefulStopMs: 5000, drainMs: 2000, setupTimeoutMs: 30_000, teardownTimeoutMs: 10_000 }
  t.deepEqual(planDeadlines({ ...base, durationMs: 10_000 }), { loadEndMs: 10_000, gracefulStopEndMs: 15_000, setupWaitMs: 40_000, hardMs: 37_000 })
  // iteration-count runs are bounded by maxDuration
  t.is(planDeadlines({ ...base, durationMs: null }).loadEndMs, 600_000)
  t.is(planDeadlines({ ...base, durationMs: 900_000 }).loadEndMs, 600_000)
  t.is(planDeadlines({ ...base, durationMs: 1000, slackMs: 0 }).hardMs, 1000 + 5000 + 2000 + 10_000)
  // closing users after teardown takes longer with more of them: 2 ms each on top
  t.is(planDeadlines({ ...base, durationMs: 1000, slackMs: 0, users: 10_000 }).hardMs, 1000 + 5000 + 2000 + 10_000 + 20_000)
})

// --- RunController ---------------------------------------------------------------------------

/** What a controller asked of the load it stops, in order. */
class RecordingLoad implements Stoppable {
  readonly calls: string[] = []
  stopGracefully (): void { this.calls.push('graceful') }
  abort (): void { this.calls.push('abort') }
}

const controllerOptions = { durationMs: 1000, iterations: null, maxDurationMs: 600_000, gracefulStopMs: 100, drainMs: 100, setupTimeoutMs: 1000, teardownTimeoutMs: 100 }

test('the first stop reason is the one reported; graceful reasons stop gracefully, the others abort', (t) => {
  const c = new RunController(controllerOptions)
  const load = new RecordingLoad()
  c.attach(load)
  c.loadStarted(performance.now())
  c.stop('abort-on-fail')
  c.stop('hard-deadline')
  t.is(c.stopReason, 'abort-on-fail')
  t.deepEqual(load.calls, ['graceful', 'abort'])
  t.deepEqual(c.lifecycle.history, ['setup', 'load', 'stopping'])
  c.settled({ startedAt: 0, endedAt: 10 })
  t.is(c.stopReason, 'abort-on-fail')
  t.false(c.interrupted)
  t.throws(() => c.settled({ startedAt: 0, endedAt: 10 }), { instanceOf: IllegalTransitionError })
})

test('a stop asked before the load is attached is passed on when it is', (t) => {
  const c = new RunController(controllerOptions)
  c.stop('breakpoint')
  const load = new RecordingLoad()
  c.attach(load)
  t.deepEqual(load.calls, ['graceful'])
  t.deepEqual(c.lifecycle.history, ['setup', 'stopping'])
  c.close()
})

test('a signal interrupts: abort, reason interrupt, and an already aborted signal counts at attach', (t) => {
  const ac = new AbortController()
  const c = new RunController({ ...controllerOptions, signal: ac.signal })
  const load = new RecordingLoad()
  c.attach(load)
  ac.abort()
  t.is(c.stopReason, 'interrupt')
  t.true(c.interrupted)
  t.deepEqual(load.calls, ['abort'])
  c.close()

  const early = new AbortController()
  early.abort()
  const c2 = new RunController({ ...controllerOptions, signal: early.signal })
  const load2 = new RecordingLoad()
  c2.attach(load2)
  t.true(c2.interrupted)
  t.deepEqual(load2.calls, ['abort'])
  c2.close()
})

test('a run nothing stopped ended by its plan: duration, or iterations when they ran out first, or max-duration', (t) => {
  const byDuration = new RunController(controllerOptions)
  byDuration.attach(new RecordingLoad())
  byDuration.settled({ startedAt: 0, endedAt: 1000 })
  t.is(byDuration.stopReason, 'duration')

  const byIterations = new RunController({ ...controllerOptions, iterations: 5 })
  byIterations.attach(new RecordingLoad())
  byIterations.settled({ startedAt: 0, endedAt: 300 })
  t.is(byIterations.stopReason, 'iterations')

  const noDuration = new RunController({ ...controllerOptions, durationMs: null, iterations: 5 })
  noDuration.attach(new RecordingLoad())
  noDuration.settled({ startedAt: 0, endedAt: 300_000 })
  t.is(noDuration.stopReason, 'iterations')

  // an iteration-count run that reached maxDuration (600 s here) did not run out of iterations
  const capped = new RunController({ ...controllerOptions, durationMs: null, iterations: 5 })
  capped.attach(new RecordingLoad())
  capped.settled({ startedAt: 0, endedAt: 605_000 })
  t.is(capped.stopReason, 'max-duration')
})

test('the hard deadline aborts the load, says so once, and counts from the start barrier', async (t) => {
  const c = new RunController({ ...controllerOptions, durationMs: 20, gracefulStopMs: 10, drainMs: 10, teardownTimeoutMs: 10, slackMs: 0 })
  const load = new RecordingLoad()
  c.attach(load)
  t.is(c.deadlines.hardMs, 50)
  c.loadStarted(performance.now())
  await new Promise(resolve => setTimeout(resolve, 200))
  t.is(c.stopReason, 'hard-deadline')
  t.deepEqual(load.calls, ['abort'])
  t.deepEqual(c.failures, ['hard deadline of 50 ms reached: remaining users aborted'])
  c.settled({ startedAt: 0, endedAt: 60 })
  t.is(c.stopReason, 'hard-deadline')
})

test('an engine failure aborts the load at once, leaves no stop reason, and a later stop is ignored', (t) => {
  const c = new RunController(controllerOptions)
  const load = new RecordingLoad()
  c.attach(load)
  c.loadStarted(performance.now())
  c.fail(new Error('pool gone'))
  c.stop('hard-deadline')
  t.deepEqual(load.calls, ['abort'])
  t.is(c.stopReason, undefined)
  t.deepEqual(c.lifecycle.history, ['setup', 'load', 'failed'])
  t.true(c.shutdown.failed)
})

/** A controller whose shutdown records each step it runs, given in reverse (the order is the shutdown's, not the caller's). */
function recordingShutdown (throwAt?: ShutdownStep): { c: RunController, ran: string[] } {
  const c = new RunController(controllerOptions)
  const ran: string[] = []
  for (const { name } of [...SHUTDOWN_STEPS].reverse()) {
    c.shutdown.on(name, async () => {
      await new Promise(resolve => setImmediate(resolve))
      ran.push(name)
      if (name === throwAt) throw new Error(`${name} failed`)
    })
  }
  c.shutdown.on('target closed', () => { ran.push('target closed (second)'); throw new Error('a later close failed too') })
  return { c, ran }
}

test('the shutdown runs its named steps in its one order, whatever order they were given in', async (t) => {
  const { c, ran } = recordingShutdown()
  c.settled({ startedAt: 0, endedAt: 1000 })
  await t.throwsAsync(c.shutdown.run(), { message: 'a later close failed too' })
  t.deepEqual(ran, ['watchers closed', 'final heap reading', 'scenario after', 'fixture stats', 'result built', 'streams ended', 'report written', 'inspector closed', 'target closed', 'target closed (second)', 'scenario disposed'])
  t.deepEqual(c.shutdown.ran, SHUTDOWN_STEPS.map(s => s.name))
  t.deepEqual(c.shutdown.lifecycle.history, ['open', 'running', 'done'])
  t.throws(() => c.shutdown.on('target closed', () => {}), { message: /after the shutdown started/ })
})

test('a step that throws skips the steps that finish the result, not the closes; the first error is rethrown', async (t) => {
  const { c, ran } = recordingShutdown('fixture stats')
  c.settled({ startedAt: 0, endedAt: 1000 })
  await t.throwsAsync(c.shutdown.run(), { message: 'fixture stats failed' })
  t.deepEqual(ran, ['watchers closed', 'final heap reading', 'scenario after', 'fixture stats', 'streams ended', 'inspector closed', 'target closed', 'target closed (second)', 'scenario disposed'])
})

test('a load that threw: the controller aborts it, the shutdown runs only the closes and rethrows the load error', async (t) => {
  const { c, ran } = recordingShutdown()
  const load = new RecordingLoad()
  c.attach(load)
  c.loadStarted(performance.now())
  c.fail(new Error('the pool threw'))
  await t.throwsAsync(c.shutdown.run(), { message: 'the pool threw' })
  t.deepEqual(load.calls, ['abort'])
  t.deepEqual(ran, ['watchers closed', 'scenario after', 'streams ended', 'inspector closed', 'target closed', 'target closed (second)', 'scenario disposed'])
})

// --- WorkerCohort ----------------------------------------------------------------------------

interface Harness {
  cohort: WorkerCohort
  control: Int32Array
  /** every message the cohort posted */
  messages: WorkerMessage[]
  ready: Promise<ReadyMessage>
  /** opens the start barrier and sends the directory, as the main thread does */
  start: () => void
  port: MessagePort
}

function harness (scenario: Scenario<object>, plan: Partial<CohortPlan> = {}, users = 3): Harness {
  const { buffer, view } = createControlBlock()
  const { port1, port2 } = new MessageChannel()
  const messages: WorkerMessage[] = []
  const ready = new Promise<ReadyMessage>((resolve) => {
    port1.on('message', (m: WorkerMessage) => { messages.push(m); if (m.type === 'ready') resolve(m) })
  })
  const durationMs = plan.durationMs === undefined ? 150 : plan.durationMs
  const full: CohortPlan = {
    model: 'closed',
    profile: [{ atMs: 0, value: users }, { atMs: durationMs ?? 600_000, value: users }],
    durationMs,
    iterations: null,
    gracefulStopMs: 100,
    errorBackoffMs: 0,
    drainMs: 100,
    deadlines: planDeadlines({ durationMs, maxDurationMs: 600_000, gracefulStopMs: plan.gracefulStopMs ?? 100, drainMs: 100, setupTimeoutMs: 1000, teardownTimeoutMs: 1000 }),
    ...plan
  }
  const spec: CohortSpec = { id: 0, firstUser: 0, size: users, initialUsers: users, startAtMs: 0, rateShare: 0, phase: 0, setupShare: 100 }
  const task: CohortTask = {
    runId: 'r1',
    cohort: spec,
    scenarioUrl: 'memory:',
    origin: 'http://127.0.0.1:9', // never contacted: the scenarios here do no I/O
    plan: full,
    setupTimeoutMs: 1000,
    teardownTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    body: { maxBytes: 1024, discard: false },
    tickMs: 1000,
    originEpochMs: performance.timeOrigin + performance.now(),
    barrier: buffer,
    late: false,
    port: port2,
    secret: 'test-secret',
    rows: null,
    isolation: { scan: true, barrierTimeoutMs: 1000 },
    preconnect: false // the scenarios here do no I/O: no connection to open
  }
  const cohort = new WorkerCohort(task, { scenario: () => Promise.resolve(scenario), directory: b => Directory.decode(b) })
  const start = (): void => {
    port1.postMessage({ type: 'directory', buffer: encodeDirectory([]), entries: 0, loadStartEpochMs: performance.timeOrigin + performance.now() })
    signal(view, GO, 1)
  }
  return { cohort, control: view, messages, ready, start, port: port1 }
}

const tick = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 5))

test('a worker cohort goes setup -> ready -> load -> draining -> teardown -> done, every user through every step', async (t) => {
  const seen = { setup: 0, iterations: 0, teardown: 0 }
  const h = harness({
    name: 'counting',
    setup: () => { seen.setup++ },
    iteration: async () => { seen.iterations++; await tick() },
    teardown: () => { seen.teardown++ }
  })
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  const ready = await h.ready
  t.is(ready.setupFailed, 0)
  t.is(ready.activeAtStart, 3)
  t.is(Atomics.load(h.control, READY), 3)
  t.is(h.cohort.lifecycle.state, 'ready')
  h.start()
  const { result, watched } = await running
  signal(h.control, STOP, STOP_DONE)
  t.deepEqual(h.cohort.lifecycle.history, ['created', 'setup', 'ready', 'load', 'draining', 'teardown', 'done'])
  t.deepEqual({ setup: seen.setup, teardown: seen.teardown }, { setup: 3, teardown: 3 })
  t.true(seen.iterations >= 3)
  t.deepEqual({ allocated: result.allocated, completed: result.completed, lost: result.lost, interrupted: result.interrupted }, { allocated: 3, completed: 3, lost: 0, interrupted: 0 })
  t.is(watched.length, 3)
  await delivered()
  t.is(h.messages.at(-1)?.type, 'bye', 'the last message on the port says goodbye')
  // the iterations the scenario ran are exactly those the cohort counted (ticks + final delta)
  const agg = new MetricsAggregator(0)
  for (const m of h.messages) if (m.type === 'tick') agg.add(m.delta, 'c', 0)
  agg.add(result.delta, 'c', 0)
  t.is(agg.counter(METRICS.iterations), seen.iterations)
})

test('a user whose setup throws sits out the load and is counted lost, with its error', async (t) => {
  const h = harness({
    name: 'one bad setup',
    setup: (u) => { if (u.id === 1) throw new Error('login refused') },
    iteration: tick
  })
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  t.is((await h.ready).setupFailed, 1)
  h.start()
  const { result } = await running
  signal(h.control, STOP, STOP_DONE)
  t.is(h.cohort.lifecycle.state, 'done')
  t.is(result.lost, 1)
  t.is(result.completed, 2)
  await tick() // ticks posted just before the end are still on their way
  const errors = [...h.messages.flatMap(m => m.type === 'tick' ? m.errors : []), ...result.errors]
  t.deepEqual(errors.map(e => [e.phase, e.message, e.user]), [['setup', 'login refused', 'user-1']])
})

test('a graceful stop before the start skips the load but still drains and tears down', async (t) => {
  let iterations = 0
  let teardowns = 0
  const h = harness({ name: 'never loaded', iteration: () => { iterations++ }, teardown: () => { teardowns++ } })
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  await h.ready
  signal(h.control, STOP, STOP_GRACEFUL)
  h.start()
  await running
  signal(h.control, STOP, STOP_DONE)
  t.deepEqual(h.cohort.lifecycle.history, ['created', 'setup', 'ready', 'draining', 'teardown', 'done'])
  t.is(iterations, 0)
  t.is(teardowns, 3)
})

test('an abort during the load cuts a stuck iteration: the cohort ends aborted, its users interrupted, no teardown', async (t) => {
  let teardowns = 0
  const h = harness({ name: 'stuck', iteration: () => new Promise(() => {}), teardown: () => { teardowns++ } }, { durationMs: 60_000 })
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  await h.ready
  h.start()
  // the start reaches the cohort through Atomics.waitAsync: on a busy box that can take more than a tick
  for (let i = 0; i < 500 && !h.cohort.lifecycle.is('load'); i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.is(h.cohort.lifecycle.state, 'load')
  const at = performance.now()
  signal(h.control, STOP, STOP_ABORT)
  const { result } = await running
  signal(h.control, STOP, STOP_DONE)
  t.true(performance.now() - at < 5000, 'the cohort stops waiting for iterations it cannot cancel')
  t.deepEqual(h.cohort.lifecycle.history, ['created', 'setup', 'ready', 'load', 'aborted'])
  t.is(teardowns, 0)
  t.deepEqual({ completed: result.completed, interrupted: result.interrupted }, { completed: 0, interrupted: 3 })
})

test('a graceful stop gives stuck iterations the graceful stop, then the cut-off aborts them', async (t) => {
  const h = harness({ name: 'stuck', iteration: () => new Promise(() => {}) }, { durationMs: 60_000, gracefulStopMs: 150 })
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  await h.ready
  h.start()
  await tick()
  const at = performance.now()
  signal(h.control, STOP, STOP_GRACEFUL)
  await tick()
  t.is(h.cohort.lifecycle.state, 'load', 'still waiting within the graceful stop')
  await running
  signal(h.control, STOP, STOP_DONE)
  t.true(performance.now() - at >= 140, 'not cut before the graceful stop ran out')
  t.is(h.cohort.lifecycle.state, 'aborted')
})

// --- Back-off after failed iterations ---------------------------------------------------------

test('the error back-off doubles while failures go on, is capped at 10x, and starts over after a success', (t) => {
  const b = new ErrorBackoff(100)
  const u = {}
  const other = {}
  t.deepEqual([b.failed(u), b.failed(u), b.failed(u), b.failed(u), b.failed(u), b.failed(u)], [100, 200, 400, 800, 1000, 1000])
  t.is(b.failed(other), 100, 'each user has its own')
  b.succeeded(u)
  t.is(b.failed(u), 100)
  t.is(new ErrorBackoff(0).failed(u), 0, '0 turns it off')
})

test('a user whose iterations fail at once backs off; the wait ends as soon as the run stops', async (t) => {
  let calls = 0
  const failing = { name: 'failing', iteration: () => { calls++; throw new Error('socket closed') } }
  const h = harness(failing, { durationMs: 60_000, errorBackoffMs: 100 }, 2)
  t.teardown(() => h.port.close())
  const running = h.cohort.run()
  await h.ready
  h.start()
  await new Promise(resolve => setTimeout(resolve, 1000))
  // 100 + 200 + 400 ms waits in the first second: 3 or 4 failures per user, not thousands
  t.true(calls >= 4 && calls <= 10, `${calls} failed iterations`)
  const at = performance.now()
  signal(h.control, STOP, STOP_GRACEFUL) // the users are waiting out 800 ms now
  const { result } = await running
  signal(h.control, STOP, STOP_DONE)
  t.true(performance.now() - at < 500, 'the back-off ends with the run')
  t.is(h.cohort.lifecycle.state, 'done')
  t.is(result.completed, 2)
  await tick() // ticks posted just before the end are still on their way
  const errors = [...h.messages.flatMap(m => m.type === 'tick' ? m.errors : []), ...result.errors]
  t.deepEqual([...new Set(errors.map(e => `${e.phase}: ${e.message}`))], ['iteration: socket closed'])
  t.is(errors.reduce((n, e) => n + e.count, 0), calls)
})

// --- Watchdog slots ----------------------------------------------------------------------------

test('a cohort slot carries the heartbeat, the thread and the scenario call last entered; a block without slots has none', (t) => {
  const { view } = createControlBlock(2)
  const a = new CohortSlot(view, 0)
  const b = new CohortSlot(view, 1)
  t.deepEqual(a.read(), { beatMs: BEAT_NONE, threadId: 0, callNumber: 0, call: undefined })
  a.claim(7)
  a.beat(1234.4)
  a.enter('setup', 0)
  b.enter('iteration', 12)
  a.enter('teardown', 3)
  t.deepEqual(a.read(), { beatMs: 1234, threadId: 7, callNumber: 3, call: { fn: 'teardown', user: 3 } })
  t.deepEqual(b.read().call, { fn: 'iteration', user: 12 })
  b.beat(BEAT_ENDED)
  t.is(b.read().beatMs, BEAT_ENDED)
  const none = new CohortSlot(createControlBlock().view, 0)
  t.false(none.exists)
  none.enter('iteration', 1) // a no-op, not a write past the block
  t.is(none.read().call, undefined)
})

test('the watchdog names a thread whose cohorts are all silent past the bound, once, with the call it is stuck in', (t) => {
  const { view } = createControlBlock(4)
  const origin = performance.timeOrigin + performance.now() - 20_000 // the run started 20 s ago
  const spec = (id: number): CohortSpec => ({ id, firstUser: id * 5, size: 5, initialUsers: 5, startAtMs: 0, rateShare: 0, phase: 0, setupShare: 100 })
  const cohorts = [0, 1, 2, 3].map(id => ({ spec: spec(id), settled: id === 3 }))
  const slots = cohorts.map(c => new CohortSlot(view, c.spec.id))
  // thread 7 (cohorts 0, 1) last beat 9 s ago; thread 8 (cohort 2) just now; cohort 3 settled
  for (const [i, thread] of [7, 7, 8, 9].entries()) slots[i]!.claim(thread)
  slots[0]!.beat(11_000)
  slots[1]!.beat(10_900)
  slots[2]!.beat(19_900)
  slots[3]!.beat(1000)
  slots[1]!.enter('iteration', 5)
  slots[0]!.enter('iteration', 3) // entered last on thread 7: where it is stuck
  slots[2]!.enter('iteration', 10)
  const seen: string[] = []
  const dog = new Watchdog({ view, originEpochMs: origin, boundMs: 5000, onStuck: s => seen.push(s.line) })
  const found = dog.check(cohorts)
  t.is(found.length, 1)
  t.is(found[0]!.threadId, 7)
  t.deepEqual(found[0]!.cohorts.map(c => c.id), [0, 1])
  t.deepEqual(found[0]!.call, { fn: 'iteration', user: 3 })
  t.regex(seen[0]!, /^watchdog: worker thread 7 silent for 9\.\d s \(bound 5 s\), stuck in iteration of user-3 \(cohort 0 \(users 0-4\)\); thread terminated, users of cohort 0 \(users 0-4\), cohort 1 \(users 5-9\) lost$/)
  t.deepEqual(dog.check(cohorts), [], 'each thread is reported once')
  t.is(watchdogBoundMs(1000), 10_000)
  t.is(watchdogBoundMs(3000), 15_000)
  // a clean run: every thread beating, nothing found
  const fresh = new Watchdog({ view, originEpochMs: origin + 9000, boundMs: 5000, onStuck: () => t.fail() })
  t.deepEqual(fresh.check(cohorts.slice(0, 2)), [])
})

test('steps out of order are refused by the lifecycle', async (t) => {
  const h = harness({ name: 'x', iteration: tick })
  t.teardown(() => h.port.close())
  await t.throwsAsync(() => h.cohort.runLoad(), { instanceOf: IllegalTransitionError }) // load before setup
  h.cohort.abort()
  t.is(h.cohort.lifecycle.state, 'aborted')
  await t.throwsAsync(() => h.cohort.setUp(), { instanceOf: IllegalTransitionError })
  signal(h.control, STOP, STOP_DONE)
})

// --- CohortTracker ---------------------------------------------------------------------------

function trackerHarness (): { tracker: CohortTracker, totals: CohortTotals, agg: MetricsAggregator, worker: MessagePort, readied: CohortTracker[] } {
  const agg = new MetricsAggregator(performance.now())
  const totals = new CohortTotals(50, agg, new IsolationAggregator(), 1000)
  const readied: CohortTracker[] = []
  const spec: CohortSpec = { id: 7, firstUser: 100, size: 50, initialUsers: 50, startAtMs: 0, rateShare: 0, phase: 0, setupShare: 100 }
  const tracker = new CohortTracker(spec, false, totals, { onReady: t => readied.push(t), directoryMessage: () => ({ type: 'directory', buffer: new SharedArrayBuffer(0), entries: 0, loadStartEpochMs: 0 }) })
  const { task } = tracker.task({} as Omit<CohortTask, 'cohort' | 'late' | 'port'>)
  return { tracker, totals, agg, worker: task.port, readied }
}

const delivered = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 20))

test('a cohort tracker goes submitted -> ready -> settled and adds the cohort to the totals', async (t) => {
  const { tracker, totals, agg, worker, readied } = trackerHarness()
  const recorder = new MetricsRecorder()
  recorder.count(METRICS.iterations, 40)
  const ready: ReadyMessage = { type: 'ready', cohortId: 7, threadId: 3, setupFailed: 2, activeAtStart: 48, directory: [{ user: 100, thread: 3, resources: {}, credentials: {} }] }
  const tickMessage: TickMessage = { type: 'tick', cohortId: 7, threadId: 3, delta: recorder.flush(), active: 48, errors: [], violations: { counts: {}, samples: [], forged: 0 }, coversUntilEpochMs: undefined }
  worker.postMessage(ready)
  worker.postMessage(tickMessage)
  await delivered()
  t.is(tracker.lifecycle.state, 'ready')
  t.deepEqual(readied, [tracker])
  t.is(tracker.activeAtStart, 48)
  t.is(totals.users.setupFailed, 2)
  t.is(totals.directory.length, 1)
  t.is(agg.counter(METRICS.iterations), 40)
  t.is(agg.gauge(METRICS.usersActive)?.value, 48)
  const result: CohortResult = { cohortId: 7, threadId: 3, delta: new MetricsRecorder().flush(), errors: [], violations: { counts: {}, samples: [], forged: 0 }, allocated: 50, completed: 48, lost: 2, interrupted: 0, loadEndedEpochMs: null, selfCheck: { checked: 50, retained: 0 } }
  worker.postMessage({ type: 'bye', cohortId: 7 })
  await tracker.settle(result) // accounted once the worker's last message is in
  t.deepEqual(tracker.lifecycle.history, ['submitted', 'ready', 'settled'])
  t.deepEqual(totals.users, { planned: 50, allocated: 50, completed: 48, lost: 2, interrupted: 0, setupFailed: 2 })
  t.is(agg.gauge(METRICS.usersActive)?.value, 0)
  t.deepEqual([...totals.threads], [3])
  worker.close()
})

test('a failed cohort loses its users with a CT_ERR_WORKER error; after an abort they are interrupted instead', (t) => {
  const crashed = trackerHarness()
  crashed.tracker.fail(new Error('worker exited'), false)
  t.deepEqual(crashed.tracker.lifecycle.history, ['submitted', 'settled'])
  t.deepEqual(crashed.readied, [crashed.tracker], 'a cohort that never got ready still releases the start barrier')
  t.is(crashed.totals.users.lost, 50)
  t.deepEqual(crashed.totals.failures, ['cohort 7 (users 100-149): worker exited'])
  t.deepEqual(crashed.totals.errors.list().map(e => [e.phase, e.code, e.count]), [['setup', 'CT_ERR_WORKER', 50]])
  crashed.worker.close()

  const aborted = trackerHarness()
  aborted.tracker.fail(new Error('pool destroyed'), true)
  t.is(aborted.totals.users.interrupted, 50)
  t.is(aborted.totals.users.lost, 0)
  t.deepEqual(aborted.totals.failures, [])
  aborted.worker.close()
})

test('a cohort\'s ticks that trail its result are still counted: the tracker waits for the goodbye', async (t) => {
  const { tracker, agg, worker } = trackerHarness()
  const result: CohortResult = { cohortId: 7, threadId: 3, delta: new MetricsRecorder().flush(), errors: [], violations: { counts: {}, samples: [], forged: 0 }, allocated: 50, completed: 50, lost: 0, interrupted: 0, loadEndedEpochMs: null, selfCheck: { checked: 0, retained: 0 } }
  const settled = tracker.settle(result) // the result overtook the last tick
  const recorder = new MetricsRecorder()
  recorder.count(METRICS.iterations, 25)
  worker.postMessage({ type: 'tick', cohortId: 7, threadId: 3, delta: recorder.flush(), active: 0, errors: [], violations: { counts: {}, samples: [], forged: 0 }, coversUntilEpochMs: undefined } satisfies TickMessage)
  worker.postMessage({ type: 'bye', cohortId: 7 })
  await settled
  t.is(agg.counter(METRICS.iterations), 25)
  t.is(tracker.lifecycle.state, 'settled')
})
