// run() against the real fixture: latency, failures, interrupts, bounded shutdown.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, METRICS, ScenarioNotFoundError, ScenarioInvalidError, ScenarioLoadError, TargetNotLoopbackError, ConfigError, type RunResult } from '../engine/index.js'
import { loadTestProblems } from '../engine/ava.js'
import { tempDir, writeScenario } from './support.js'

test('a fixed server delay shows up in http.req.duration within HDR precision', async t => {
  const delay = 40
  const r = await run({ scenario: 'items', users: 10, iterations: 5, workers: 1, fixture: { latencyMs: delay } })
  const d = r.metrics[`${METRICS.httpReqDuration}{name:get item}`]
  if (d?.type !== 'trend') return t.fail('no trend')
  t.is(d.count, 50)
  // No request can beat the delay beyond HDR's precision (3 significant digits: 0.1%) and the
  // server's timer granularity (libuv starts a timer from the loop's cached time, up to ~1 ms
  // stale); the fastest one shows the delay plus loopback overhead. Upper tails depend on
  // machine load, so they are not asserted.
  const floor = delay * 0.999 - 1
  t.true(d.min >= floor, `min ${d.min}`)
  t.true(d.min <= delay * 1.001 + 10, `min ${d.min}`)
  t.true(d.med >= floor && d.med < delay * 2, `med ${d.med}`)
})

test('failed checks and server errors fail the run, and the ava verdict says why', async t => {
  const r = await run({ scenario: 'items', users: 20, iterations: 2, workers: 1, fixture: { errorRate: 1 } })
  t.is(r.status, 'failed')
  const failed = r.metrics[METRICS.httpReqFailed]
  t.true(failed?.type === 'rate' && failed.passes > 0)
  t.true(loadTestProblems(r).some(p => /checks failed|errors|lost/.test(p)), loadTestProblems(r).join('; '))
})

test('users whose setup fails are counted lost, with their error grouped', async t => {
  const dir = tempDir(t)
  const file = writeScenario(dir, 'half-setup.mjs', `export default defineScenario({
    name: 'half-setup',
    async setup (user) { if (user.id % 2 === 0) throw new Error('setup refused') },
    async iteration (user) { await user.http.get('/health') }
  })`)
  const r = await run({ fixture: true, scenario: file, users: 100, iterations: 2, workers: 2 })
  t.is(r.users.lost, 50)
  t.is(r.users.completed, 50)
  t.is(r.status, 'failed')
  t.like(r.errors.groups.find(g => g.phase === 'setup'), { message: 'setup refused', count: 50 })
  t.like(r.metrics[METRICS.iterations], { count: 100 })
})

test('a crashing worker thread loses its users but never hangs the run or loses the rest', async t => {
  const dir = tempDir(t)
  const file = writeScenario(dir, 'crash.mjs', `import { threadId } from 'node:worker_threads'
  let first
  export default defineScenario({
    name: 'crash',
    async iteration (user) {
      first ??= user.id
      await user.http.get('/health')
      // the thread that runs user 0 dies in its third iteration
      if (user.id === 0 && user.iterations === 2) process.exit(7)
    }
  })`)
  const started = Date.now()
  const r = await run({ fixture: true, scenario: file, users: 200, duration: '2s', workers: 2 })
  t.true(Date.now() - started < 20_000)
  t.is(r.status, 'failed')
  t.true(r.users.lost > 0 && r.users.lost < 200, `lost ${r.users.lost}`)
  t.is(r.users.lost + r.users.completed, 200)
  t.true(r.failures.some(f => /cohort \d+/.test(f)), r.failures.join('; '))
  t.true((r.metrics[METRICS.httpReqs] as { count: number }).count > 0, 'what the other thread measured is kept')
})

test('an iteration that never resolves is cut after the graceful stop', async t => {
  const dir = tempDir(t)
  const file = writeScenario(dir, 'stuck.mjs', `export default defineScenario({
    name: 'stuck',
    async iteration (user) { await user.http.get('/health'); await new Promise(() => {}) }
  })`)
  const started = Date.now()
  const r = await run({ fixture: true, scenario: file, users: 20, duration: '500ms', gracefulStop: '500ms', workers: 1 })
  t.true(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
  t.is(r.users.interrupted, 20)
  t.like(r.metrics[METRICS.httpReqs], { count: 20 })
})

test('an AbortSignal interrupts within 2 s and the report says so', async t => {
  const out = tempDir(t)
  const controller = new AbortController()
  let abortedAt = 0
  const result: RunResult = await run({
    fixture: true,
    scenario: 'items',
    users: 200,
    duration: '60s',
    workers: 2,
    out,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.phase === 'load' && p.elapsedS >= 1 && abortedAt === 0) { abortedAt = Date.now(); controller.abort() }
    }
  })
  t.true(abortedAt > 0)
  t.true(Date.now() - abortedAt < 2000 + 500, `stopped ${Date.now() - abortedAt} ms after the abort`)
  t.is(result.status, 'interrupted')
  t.true((result.metrics[METRICS.httpReqs] as { count: number }).count > 0)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.is(report.status, 'interrupted')
  t.is(report.schemaVersion, 2)
})

test('bad scenarios and targets are rejected before any load, with their codes', async t => {
  const dir = tempDir(t)
  await t.throwsAsync(run({ fixture: true, scenario: 'no-such-scenario' }), { instanceOf: ScenarioNotFoundError })
  await t.throwsAsync(run({ fixture: true, scenario: join(dir, 'missing.mjs') }), { instanceOf: ScenarioNotFoundError })
  const invalid = writeScenario(dir, 'invalid.mjs', 'export const nothing = 1')
  await t.throwsAsync(run({ fixture: true, scenario: invalid }), { instanceOf: ScenarioInvalidError })
  const broken = writeScenario(dir, 'broken.mjs', 'export default {{{')
  await t.throwsAsync(run({ fixture: true, scenario: broken }), { instanceOf: ScenarioLoadError })
  await t.throwsAsync(run({ target: 'http://example.com' }), { instanceOf: TargetNotLoopbackError })
  const err = await t.throwsAsync(run({ fixture: true, users: 0, workers: -1, duration: 'soon' }), { instanceOf: ConfigError })
  t.is(err?.problems.length, 3, err?.message)
})

test('the embedded fixture can run as its own process; its stats come back over HTTP', async t => {
  const r = await run({ scenario: 'items', users: 50, iterations: 2, workers: 1, fixture: { process: 'child' } })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.is(r.target.fixture?.process, 'child')
  t.is(r.target.fixture?.requests, 50 * (2 + 3 * 2 + 1))
})

test('HTTP and WebSocket waits time out with CT_ERR_TIMEOUT instead of hanging', async t => {
  const dir = tempDir(t)
  const http = writeScenario(dir, 'slow-http.mjs', `export default defineScenario({
    name: 'slow-http',
    async iteration (user) { await user.http.post('/login', { json: { name: user.name }, timeout: 200 }) }
  })`)
  const r1 = await run({ scenario: http, users: 5, iterations: 1, workers: 1, fixture: { latencyMs: 2000 } })
  t.like(r1.errors.groups[0], { phase: 'iteration', code: 'CT_ERR_TIMEOUT', count: 5 })
  t.like(r1.metrics[METRICS.httpReqFailed], { passes: 5 })

  const ws = writeScenario(dir, 'silent-ws.mjs', `export default defineScenario({
    name: 'silent-ws',
    async setup (user) {
      await user.http.post('/login', { json: { name: user.name } })
      user.state.socket = await user.ws('/events', { protocol: 'crosstalk' })
    },
    async iteration (user) { await user.state.socket.next(200) }
  })`)
  const started = Date.now()
  const r2 = await run({ scenario: ws, users: 5, iterations: 2, workers: 1, fixture: { eventsPerSecond: 0 } })
  t.true(Date.now() - started < 10_000)
  t.like(r2.errors.groups[0], { phase: 'iteration', code: 'CT_ERR_TIMEOUT', count: 10 })
})

test('self-check: after teardown every user context and socket is collectable, and a scenario that keeps them is caught', async t => {
  const clean = await run({ fixture: true, scenario: 'default', users: 200, duration: '1s', workers: 2 })
  t.deepEqual(clean.selfCheck, { checked: 400, retained: 0 }, 'users and their sockets')
  const dir = tempDir(t)
  const file = writeScenario(dir, 'hoarder.mjs', `const kept = []
  export default defineScenario({
    name: 'hoarder',
    async setup (user) { if (user.id % 4 === 0) kept.push(user) },
    async iteration (user) { await user.http.get('/health') }
  })`)
  const r = await run({ fixture: true, scenario: file, users: 100, iterations: 1, workers: 2 })
  t.deepEqual(r.selfCheck, { checked: 100, retained: 25 })
})
