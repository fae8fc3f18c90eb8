// The peers benchmark's measuring parts: the process-tree reader, the window measured from
// outside against a real fixture, the fixture's health-probe count, the generated Artillery
// processor, and the readers of wrk's and Artillery's own reports.
import test from 'ava'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { startFixture } from '../fixtures/index.js'
import { treeUsage } from '../benchmarks/proc-tree.js'
import { closeStats, fixtureStats, measureWindow } from '../benchmarks/peer-window.js'
import { artilleryHttpScript, artilleryReport, wrkReport } from '../benchmarks/peer-tools.js'

// a parent that starts a child burning CPU until it is killed, and prints the child's pid
const PARENT = `
const { spawn } = require('node:child_process')
const c = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
console.log(c.pid)
setInterval(() => {}, 1000)
`

test('treeUsage counts a process and its descendants', async (t) => {
  const parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'ignore'] })
  t.teardown(() => { parent.kill('SIGKILL') })
  const [line] = await once(parent.stdout, 'data') as [Buffer]
  const child = Number(line.toString().trim())
  t.teardown(() => { try { process.kill(child, 'SIGKILL') } catch { /* gone */ } })
  await new Promise(resolve => setTimeout(resolve, 500))
  const a = treeUsage(parent.pid!)
  await new Promise(resolve => setTimeout(resolve, 300))
  const b = treeUsage(parent.pid!)
  t.deepEqual([...a.pids].sort(), [parent.pid!, child].sort(), 'the parent and its child')
  t.true(b.cpuUs > a.cpuUs, 'the busy child makes the tree CPU grow')
  t.true(a.peakRssKb > 0)
  // the child alone is part of it, not all of it
  t.true(treeUsage(child).cpuUs <= b.cpuUs)
  t.deepEqual(treeUsage(2 ** 22 + 12345).pids, [], 'no such process: nothing')
})

test('the fixture counts GET /health probes apart from requests', async (t) => {
  const f = await startFixture()
  t.teardown(() => f.close())
  for (let i = 0; i < 3; i++) await (await request(`${f.url}/health`)).body.dump()
  await (await request(`${f.url}/nope`)).body.dump()
  const s = await fixtureStats(f.url)
  t.is(s.healthProbes, 3)
  t.is(s.requests, 1, 'probes stay out of requests')
  await closeStats()
})

// users that each loop GET /health on their own connection for `seconds`
const LOOPER = `
const { Client } = require('undici')
const [url, users, seconds] = process.argv.slice(1)
const end = Date.now() + Number(seconds) * 1000
Promise.all(Array.from({ length: Number(users) }, async () => {
  const c = new Client(url)
  while (Date.now() < end) await (await c.request({ method: 'GET', path: '/health' })).body.dump()
  await c.close()
}))
`

test('measureWindow reads a client from outside over its steady window', async (t) => {
  const f = await startFixture()
  t.teardown(async () => { await closeStats(); await f.close() })
  const w = await measureWindow(f.url, process.execPath, ['-e', LOOPER, f.url, '4', '5'], {
    work: s => s.healthProbes, connections: s => s.openSockets, users: 4, endAfterS: 3.5, timeoutS: 30
  }, { ...process.env, NODE_PATH: join(process.cwd(), 'node_modules') })
  t.true(w.work > 0, 'requests counted by the fixture')
  t.true(w.cpuUs > 0, 'CPU read from /proc')
  t.true(w.seconds > 2 && w.seconds < 3.5, `a window of ~2.5 s (${w.seconds})`)
  t.true(w.peakRssKb > 0)
  // a client that never connects its users: an error, not a figure
  await t.throwsAsync(measureWindow(f.url, process.execPath, ['-e', 'setTimeout(() => {}, 300)'], {
    work: s => s.healthProbes, connections: s => s.openSockets, users: 4, endAfterS: 2.5, timeoutS: 30
  }), { message: /exited \(0\) before 4 connections/ })
})

test('the generated Artillery processor: wait for the shared start, then loop; holders stop after their time', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'peers-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  artilleryHttpScript(dir, 'http://127.0.0.1:1', 10, 0)
  const p = createRequire(import.meta.url)(join(dir, 'processor.js')) as Record<string, (ctx: { vars: Record<string, unknown> }, next: (b: boolean) => void) => void>
  const answers: boolean[] = []
  const ctx: { vars: Record<string, unknown> } = { vars: {} }
  p.waitForStart!(ctx, b => answers.push(b)) // the start is 1.5 s after the first call
  p.keepLooping!(ctx, b => answers.push(b)) // with 0 s to run: over once the start is reached
  p.keepHolding!(ctx, b => answers.push(b)) // 0 s after the last arrival: over at once
  t.deepEqual(answers, [true, true, false])
  t.is(typeof ctx.vars.arrivedAt, 'number')
})

const WRK_OUT = `Running 5s test @ http://127.0.0.1:1/health
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  812.00us  20.00ms   90.00%
  Latency Distribution
     50%    1.95ms
     75%    2.40ms
     90%    2.90ms
     99%  850.00us
  120000 requests in 5.00s, 19.00MB read
Requests/sec:  24000.00
`

test('wrk and Artillery reports: latency percentiles, failures found, none on a clean run', (t) => {
  t.deepEqual(wrkReport(WRK_OUT), { p50: 1.95, p99: 0.85, failed: 0, requests: 120000 })
  const bad = WRK_OUT.replace('Requests/sec', '  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec')
  t.is(wrkReport(bad).failed, 12)
  t.throws(() => wrkReport('nothing'), { message: /no 50% latency line/ })
  const clean = { aggregate: { counters: { 'http.codes.200': 10, 'vusers.failed': 0 }, summaries: { 'http.response_time': { p50: 3.1, p99: 9.9 } } } }
  t.deepEqual(artilleryReport(clean), { p50: 3.1, p99: 9.9, failed: 0 })
  const failing = { aggregate: { counters: { 'http.codes.200': 10, 'http.codes.500': 2, 'errors.ECONNRESET': 3, 'vusers.failed': 3 }, summaries: {} } }
  t.deepEqual(artilleryReport(failing), { p50: 0, p99: 0, failed: 8 })
})
