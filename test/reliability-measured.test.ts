// Never pass a run in which nothing was measured: a trickling response times out as a whole, a
// run with no completed iteration fails, the default failure budget fails a mostly failing run
// (and a user threshold replaces it), max-duration is a flag whose conflicts are errors, setup
// failures are errors, bodies are capped, and abortOnFail waits for data. Servers are plain
// node:http written here, on 127.0.0.1 port 0.
import test from 'ava'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, type RunResult } from '../engine/index.js'
import { cli, tempDir, writeScenario } from './support.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function serve (t: { teardown: (fn: () => Promise<void>) => void }, handler: Handler): Promise<string> {
  const server: Server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** `content-length: 100000`, then one byte a second: every gap is short, the whole never ends. */
function trickle (timers: Set<NodeJS.Timeout>): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': '100000' })
    const timer = setInterval(() => res.write('x'), 1000)
    timers.add(timer)
    res.on('close', () => { clearInterval(timer); timers.delete(timer) })
  }
}

const GET_ONE = 'export default defineScenario({ name: "get-one", async iteration (user) { await user.http.get("/") } })'

function report (dir: string): RunResult {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunResult
}

test('a trickling response times out as a whole; a run that completed no iteration fails, exits 1 and says why', async t => {
  const timers = new Set<NodeJS.Timeout>()
  t.teardown(() => { for (const x of timers) clearInterval(x) })
  const target = await serve(t, trickle(timers))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'get-one.mjs', GET_ONE)
  // --iterations without --duration: before, this ran to the 10-minute cap and passed
  const r = await cli(['run', scenario, '--target', target, '-u', '20', '--iterations', '2', '--request-timeout', '1s', '--out', dir, '--quiet'], { timeoutMs: 60_000 })
  t.is(r.code, 1, r.stderr)
  t.true(r.ms < 30_000, `took ${r.ms} ms`)
  const rep = report(dir)
  t.is(rep.status, 'failed')
  t.true(rep.failures.includes('nothing was measured: no iteration completed without an error'), rep.failures.join('; '))
  t.true(rep.errors.groups.some(g => g.code === 'CT_ERR_TIMEOUT' && g.message.includes('timed out after 1000 ms')), JSON.stringify(rep.errors.groups))
  t.like(rep.metrics['http.req.failed'], { type: 'rate', rate: 1 })
  t.is(rep.errors.count, 40) // 20 users x 2 iterations, each cut at its deadline
})

test('a response that completes within the request timeout is measured and passes', async t => {
  const target = await serve(t, (_req, res) => res.end('ok'))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'get-one.mjs', GET_ONE)
  const r = await run({ scenario, target, users: 10, iterations: 3, workers: 1, requestTimeout: '1s' })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.like(r.metrics['iterations'], { count: 30 })
  t.is(r.errors.count, 0)
})

test('the default failure budget fails a run whose requests fail above 5%, and a clean run passes it', async t => {
  let n = 0
  const flaky = await serve(t, (_req, res) => { res.statusCode = ++n % 5 === 0 ? 500 : 200; res.end('x') }) // 20% fail
  const clean = await serve(t, (_req, res) => res.end('x'))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'get-one.mjs', GET_ONE)
  const failing = await run({ scenario, target: flaky, users: 5, iterations: 20, workers: 1 })
  t.is(failing.status, 'failed')
  t.deepEqual(failing.thresholds, [{ metric: 'http.req.failed', expression: 'rate<0.05', value: 0.2, passed: false, abortOnFail: false, default: true }])
  t.deepEqual(failing.failures, ['failed requests above the default budget: http.req.failed rate<0.05 failed (0.2); a threshold of your own on http.req.failed replaces it'])
  const passing = await run({ scenario, target: clean, users: 5, iterations: 20, workers: 1 })
  t.is(passing.status, 'passed', passing.failures.join('; '))
  t.deepEqual(passing.thresholds, [{ metric: 'http.req.failed', expression: 'rate<0.05', value: 0, passed: true, abortOnFail: false, default: true }])
})

test('a threshold of the user on http.req.failed replaces the default budget', async t => {
  let n = 0
  const flaky = await serve(t, (_req, res) => { res.statusCode = ++n % 5 === 0 ? 500 : 200; res.end('x') })
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'get-one.mjs', GET_ONE)
  const r = await run({ scenario, target: flaky, users: 5, iterations: 20, workers: 1, thresholds: { 'http.req.failed': 'rate<0.5' } })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.deepEqual(r.thresholds.map(x => [x.metric, x.expression, x.passed, x.default]), [['http.req.failed', 'rate<0.5', true, undefined]])
})

test('max-duration: a longer --duration is an error up front, a duration beyond timer range is CT_ERR_DURATION', async t => {
  const dir = tempDir(t)
  const long = await cli(['run', '--duration', '30m', '--out', dir, '--quiet'])
  t.is(long.code, 2)
  t.is(long.stderr.trim(), 'crosstalk: CT_ERR_CONFIG: the load phase of 1800s (duration or stages) is longer than maxDuration 600s: raise --max-duration or shorten the load')
  const stages = await cli(['run', '--executor', 'ramping-users', '--stages', '5s:10,10s:10', '--max-duration', '10s', '--out', dir, '--quiet'])
  t.is(stages.code, 2)
  t.regex(stages.stderr, /CT_ERR_CONFIG: the load phase of 15s .* longer than maxDuration 10s/)
  const huge = await cli(['run', '--duration', '99999h', '--out', dir, '--quiet'])
  t.is(huge.code, 2)
  t.is(huge.stderr.trim(), "crosstalk: CT_ERR_DURATION: invalid duration '99999h': longer than the timer range (2147483647 ms, about 24 days)")
  const hugeMax = await cli(['run', '--max-duration', '1000h', '--out', dir, '--quiet'])
  t.is(hugeMax.code, 2)
  t.regex(hugeMax.stderr, /^crosstalk: CT_ERR_DURATION: invalid maxDuration '1000h': longer than the timer range/)
})

test('an --iterations run stopped by --max-duration says so in stopReason and the summary', async t => {
  const target = await serve(t, (_req, res) => setTimeout(() => res.end('ok'), 20))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'get-one.mjs', GET_ONE)
  const r = await cli(['run', scenario, '--target', target, '-u', '5', '--iterations', '100000', '--max-duration', '2s', '--workers', '1', '--out', dir], { timeoutMs: 60_000 })
  t.is(r.code, 0, r.stderr)
  t.true(r.ms < 30_000, `took ${r.ms} ms`)
  t.regex(r.stdout, /stopped by --max-duration after \d+\.\ds of load, before every user finished its iterations/)
  const rep = report(dir)
  t.is(rep.stopReason, 'max-duration')
  t.true((rep.metrics['iterations'] as { count: number }).count > 0)
  // finishing within the bound is still `iterations`
  const done = await run({ scenario, target, users: 5, iterations: 2, workers: 1, maxDuration: '10s' })
  t.is(done.stopReason, 'iterations')
})

test('failed setups count in the errors metric, so errors: count==0 fails; clean setups pass it', async t => {
  const target = await serve(t, (_req, res) => res.end('ok'))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'setup.mjs', `export default defineScenario({
    name: 'setup-fails',
    async setup (user) { if (process.env.CT_TEST_SETUP_FAILS === '1' && user.id % 2 === 1) throw new Error('no login') },
    async iteration (user) { await user.http.get('/') }
  })`)
  process.env.CT_TEST_SETUP_FAILS = '1'
  t.teardown(() => { delete process.env.CT_TEST_SETUP_FAILS })
  const failing = await run({ scenario, target, users: 10, iterations: 2, workers: 1, thresholds: { errors: 'count==0' } })
  t.like(failing.metrics['errors'], { type: 'counter', count: 5 })
  t.like(failing.thresholds.find(x => x.metric === 'errors'), { passed: false, value: 5 })
  t.is(failing.status, 'failed')
  process.env.CT_TEST_SETUP_FAILS = '0'
  const clean = await run({ scenario, target, users: 10, iterations: 2, workers: 1, thresholds: { errors: 'count==0' } })
  t.like(clean.thresholds.find(x => x.metric === 'errors'), { passed: true, value: 0 })
  t.is(clean.status, 'passed', clean.failures.join('; '))
})

const BIG = Buffer.alloc(20 * 2 ** 20, 'a')

/** answers 20 MB in 64 KiB writes, from one shared buffer (the server itself holds 20 MB) */
function bigBodies (): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(BIG.length) })
    let at = 0
    const more = (): void => {
      while (at < BIG.length) {
        const end = Math.min(BIG.length, at + 65_536)
        const ok = res.write(BIG.subarray(at, end))
        at = end
        if (!ok) { res.once('drain', more); return }
      }
      res.end()
    }
    more()
  }
}

test('response bodies are cut at maxBodyBytes, the rest counted in http.body.discarded; memory stays bounded', async t => {
  const target = await serve(t, bigBodies())
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'big.mjs', `export default defineScenario({
    name: 'big',
    async iteration (user) {
      const res = await user.http.get('/')
      user.check(res.body.length === 65536 && res.discardedBytes === ${BIG.length - 65_536}, 'cut at the cap')
    }
  })`)
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  t.teardown(() => clearInterval(sampler))
  const r = await run({ scenario, target, users: 20, iterations: 3, workers: 1, maxBodyBytes: 65_536, requestTimeout: '60s' })
  clearInterval(sampler)
  t.is(r.status, 'passed', JSON.stringify(r.errors.groups))
  t.like(r.metrics['checks'], { passes: 60, fails: 0 })
  t.like(r.metrics['http.body.discarded'], { type: 'counter', count: 60 * (BIG.length - 65_536) })
  // 20 users x 20 MB kept whole (and concatenated) would be 400-800 MB
  const growthMb = (peak - before) / 2 ** 20
  t.log(`RSS growth ${growthMb.toFixed(0)} MB`)
  t.true(growthMb < 200, `RSS grew ${growthMb.toFixed(0)} MB`)
})

test('bodies under the cap are kept whole and nothing is discarded; discardBodies keeps none once scanned', async t => {
  const target = await serve(t, (_req, res) => res.end('hello'))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'small.mjs', `export default defineScenario({
    name: 'small',
    async iteration (user) {
      const res = await user.http.get('/')
      user.check(res.text() === (process.env.CT_TEST_DISCARD === '1' ? '' : 'hello'), 'body as expected')
    }
  })`)
  t.teardown(() => { delete process.env.CT_TEST_DISCARD })
  const kept = await run({ scenario, target, users: 5, iterations: 2, workers: 1 })
  t.is(kept.status, 'passed', kept.failures.join('; '))
  t.is(kept.metrics['http.body.discarded'], undefined)
  process.env.CT_TEST_DISCARD = '1'
  const dropped = await run({ scenario, target, users: 5, iterations: 2, workers: 1, discardBodies: true })
  t.is(dropped.status, 'passed', dropped.failures.join('; '))
  t.like(dropped.metrics['checks'], { passes: 10, fails: 0 })
})

test('abortOnFail on a check that has not run yet does not abort; it judges once the check has data', async t => {
  const target = await serve(t, (_req, res) => setTimeout(() => res.end('ok'), 10))
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'later.mjs', `export default defineScenario({
    name: 'later',
    async iteration (user) {
      user.state.t0 ??= Date.now()
      await user.http.get('/')
      if (Date.now() - user.state.t0 > 1000) user.check(process.env.CT_TEST_LATER_OK === '1', 'later')
    }
  })`)
  t.teardown(() => { delete process.env.CT_TEST_LATER_OK })
  const thresholds = { 'checks{check:later}': [{ threshold: 'rate>0.9', abortOnFail: true }] }
  process.env.CT_TEST_LATER_OK = '1'
  const held = await run({ scenario, target, users: 5, duration: '2s', workers: 1, thresholds })
  t.is(held.stopReason, 'duration')
  t.is(held.status, 'passed', held.failures.join('; '))
  t.like(held.thresholds[0], { metric: 'checks{check:later}', passed: true, value: 1 })
  // the same threshold still aborts once the check runs and fails
  process.env.CT_TEST_LATER_OK = '0'
  const aborted = await run({ scenario, target, users: 5, duration: '4s', workers: 1, thresholds })
  t.is(aborted.stopReason, 'abort-on-fail')
  t.true(aborted.loadDurationMs >= 1000, `aborted after ${aborted.loadDurationMs} ms`)
})
