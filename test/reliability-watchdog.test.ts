// Reliability: a worker thread stuck in a synchronous loop is found by the watchdog, named and
// terminated; rates count only the time the load really ran; iterations that fail at once back
// off instead of spinning; and a clean run sees none of it. Real servers written here, real
// worker threads, real sockets.
import test from 'ava'
import { createServer, type Server } from 'node:http'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'
import { run } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

/** A plain node:http server on 127.0.0.1, port 0, that counts the requests it answers. */
async function countingServer (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ url: string, count: () => number }> {
  let n = 0
  const server: Server = createServer((_req, res) => { n++; res.end('ok') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) })
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}`, count: () => n }
}

test('a worker stuck in a synchronous loop is named, terminated, its users lost, and rates cover the real load', async (t) => {
  const server = await countingServer(t)
  const dir = tempDir(t)
  const file = writeScenario(dir, 'stuck.mjs', `
let firstAt
export default defineScenario({
  name: 'stuck',
  async iteration (user) {
    firstAt ??= Date.now()
    if (user.id === 3 && Date.now() - firstAt > 1000) { while (true) {} }
    await user.http.get('/')
    await user.sleep(20)
  }
})`)
  const started = Date.now()
  const r = await run({ scenario: file, target: server.url, users: 10, cohortSize: 5, workers: 2, duration: '4s', gracefulStop: '1s', out: join(dir, 'report') })
  const tookMs = Date.now() - started
  t.log(`took ${tookMs} ms, load ${r.loadDurationMs} ms, served ${server.count()}, failures: ${r.failures.join(' | ')}`)
  // duration 4 s + graceful stop 1 s + watchdog bound 10 s + a few s (the hard deadline is 27 s)
  t.true(tookMs < 22_000, `run took ${tookMs} ms`)
  t.true(existsSync(join(dir, 'report', 'report.json')))
  const line = r.failures.find(f => f.startsWith('watchdog:'))
  t.truthy(line, r.failures.join('\n'))
  t.regex(line!, /thread \d+/)
  t.regex(line!, /cohort 0 \(users 0-4\)/)
  t.regex(line!, /iteration of user-3/)
  // the stuck thread's cohort is lost, not interrupted; the other cohort ran to its end
  t.is(r.users.lost, 5)
  t.is(r.users.interrupted, 0)
  t.is(r.users.completed, 5)
  t.is(r.stopReason, 'duration')
  t.is(r.status, 'failed')
  // the load phase is the healthy cohort's 4 s (plus its graceful stop at most), not the watchdog's wait
  t.true(r.loadDurationMs >= 3500 && r.loadDurationMs < 6000, `load phase ${r.loadDurationMs} ms`)
  const reqs = r.metrics['http.reqs']
  t.is(reqs?.type, 'counter')
  const rate = reqs?.type === 'counter' ? reqs.rate : 0
  const served = server.count()
  t.true(served > 50, `served ${served}`)
  // within a generous factor of what the server saw over the asked duration
  t.true(rate > served / 4 / 2 && rate < served / 4 * 2, `rate ${rate}/s, served ${served} in 4 s`)
})

test('sockets that all drop mid-run: failed iterations back off, errors are grouped, the run ends by its deadline', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>(resolve => wss.once('listening', () => resolve()))
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise<void>(resolve => wss.close(() => resolve()))
  })
  let sockets = 0
  wss.on('connection', (ws) => {
    sockets++
    const beat = setInterval(() => ws.send('{"hello":1}'), 50)
    // every socket is dropped after 1 s, without a close handshake
    setTimeout(() => { clearInterval(beat); ws.terminate() }, 1000)
    ws.on('close', () => clearInterval(beat))
  })
  const port = (wss.address() as { port: number }).port
  const dir = tempDir(t)
  const file = writeScenario(dir, 'drops.mjs', `
export default defineScenario({
  name: 'drops',
  async setup (user) { user.state.socket = await user.ws('/') },
  async iteration (user) { await user.state.socket.next(2000) }
})`)
  const started = Date.now()
  const r = await run({ scenario: file, target: `http://127.0.0.1:${port}`, users: 50, workers: 2, duration: '20s', gracefulStop: '1s', out: join(dir, 'report') })
  const tookMs = Date.now() - started
  t.log(`took ${tookMs} ms, ${r.errors.count} errors in ${r.errors.groups.length} groups: ${r.errors.groups.map(g => `${g.count}x ${g.message}`).join('; ')}`)
  t.is(sockets, 50)
  t.true(tookMs < 35_000, `run took ${tookMs} ms`)
  t.is(r.stopReason, 'duration')
  t.is(r.users.completed, 50)
  t.true(existsSync(join(dir, 'report', 'report.json')))
  // one group per distinct cause, with its count
  t.true(r.errors.groups.length >= 1 && r.errors.groups.length <= 5, JSON.stringify(r.errors.groups))
  t.is(r.errors.groups.reduce((n, g) => n + g.count, 0), r.errors.count)
  // with the back-off (100 ms doubling to 1 s) each user fails about once a second: ~50 x 19
  t.true(r.errors.count > 50, `errors ${r.errors.count}`)
  t.true(r.errors.count < 50 * 20 * 10 / 4, `errors ${r.errors.count}`)
  t.false(r.failures.some(f => f.startsWith('watchdog:')))
})

test('a clean run: no watchdog failure, no back-off delay', async (t) => {
  const server = await countingServer(t)
  const dir = tempDir(t)
  const file = writeScenario(dir, 'clean.mjs', `
export default defineScenario({
  name: 'clean',
  async iteration (user) {
    await user.http.get('/')
    await user.sleep(100)
  }
})`)
  const r = await run({ scenario: file, target: server.url, users: 10, workers: 2, cohortSize: 5, duration: '3s' })
  t.is(r.status, 'passed', r.failures.join('\n'))
  t.deepEqual(r.failures, [])
  t.is(r.errors.count, 0)
  t.is(r.users.completed, 10)
  t.is(r.users.lost, 0)
  const iterations = r.metrics.iterations
  const count = iterations?.type === 'counter' ? iterations.count : 0
  t.log(`${count} iterations, load ${r.loadDurationMs} ms`)
  // 10 users x 3 s / ~100 ms per iteration: about 300 (at most 310), far above a back-off's pace
  t.true(count > 180 && count <= 310, `iterations ${count}`)
  t.true(r.loadDurationMs >= 2900 && r.loadDurationMs < 4500, `load phase ${r.loadDurationMs} ms`)
})

for (const fn of ['setup', 'teardown'] as const) {
  test(`a worker stuck in a synchronous loop in ${fn} is named (${fn} of user-3) and the run ends within its bound`, async (t) => {
    const server = await countingServer(t)
    const dir = tempDir(t)
    const file = writeScenario(dir, `stuck-${fn}.mjs`, `
export default defineScenario({
  name: 'stuck-${fn}',
  async ${fn} (user) {
    if (user.id === 3) { while (true) {} }
    await user.http.get('/')
  },
  async iteration (user) {
    await user.http.get('/')
    await user.sleep(20)
  }
})`)
    const started = Date.now()
    const r = await run({ scenario: file, target: server.url, users: 10, cohortSize: 5, workers: 2, duration: '3s', gracefulStop: '1s', out: join(dir, 'report') })
    const tookMs = Date.now() - started
    t.log(`took ${tookMs} ms, users ${JSON.stringify(r.users)}, failures: ${r.failures.join(' | ')}`)
    // setup or load 3 s + graceful stop 1 s + watchdog bound 10 s + a few s, far under the hard deadline
    t.true(tookMs < 22_000, `run took ${tookMs} ms`)
    t.true(existsSync(join(dir, 'report', 'report.json')))
    const line = r.failures.find(f => f.startsWith('watchdog:'))
    t.truthy(line, r.failures.join('\n'))
    t.regex(line!, /^watchdog: worker thread \d+ silent for [\d.]+ s \(bound \d+ s\), stuck in /)
    t.regex(line!, new RegExp(`stuck in ${fn} of user-3 \\(cohort 0 \\(users 0-4\\)\\)`))
    t.is(r.status, 'failed')
    // the stuck thread's cohort is lost; the other thread's cohort ran its load and ended cleanly
    t.like(r.users, { lost: 5, completed: 5, interrupted: 0 })
    t.true(server.count() > 10, `served ${server.count()}`)
  })
}
