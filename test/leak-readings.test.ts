// Quiet heap readings at 1000 users: each reading holds new iterations, waits for those in flight,
// collects and reads; the report says so, with the pauses and what they cost, and the seed
// figures (growth per 1K ops with its CI, GC effectiveness, peak and final heap). A server that
// keeps a session per visitor is flagged; its twin without the leak is not, quiet or under load
// (readings under load hold nothing; the noise of each mode is compared in benchmarks/RESULTS.md).
import test from 'ava'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, type RunResult } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

/**
 * A node:http server on $PORT that, with --leak, opens a session for every visitor without a
 * cookie and never expires it (the scenario sends none: one session, ~200 B, per request).
 */
const SERVER = `import { createServer } from 'node:http'
const leak = process.argv.includes('--leak')
const sessions = new Map()
let n = 0
createServer((req, res) => {
  const body = JSON.stringify({ ok: true, path: req.url, at: Date.now() })
  if (leak) sessions.set('sid-' + (++n), { id: n, createdAt: Date.now(), agent: String(req.headers['user-agent']) + n })
  res.setHeader('content-type', 'application/json')
  res.end(body)
}).listen(Number(process.env.PORT), process.env.HOST)
`

/** One GET /page per iteration. */
function visitScenario (dir: string): string {
  return writeScenario(dir, 'visit.mjs', `export default defineScenario({
    name: 'visit',
    async iteration (user) {
      const r = await user.http.get('/page', { name: 'page' })
      user.check(r.status === 200, 'ok')
    }
  })`)
}

function leakRun (t: { teardown: (fn: () => void) => void }, leak: boolean, readings: 'quiet' | 'under-load', duration = '20s'): Promise<RunResult> {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'server.mjs'), SERVER)
  const scenario = visitScenario(dir)
  return run({ scenario, target: `cmd:node ${join(dir, 'server.mjs')}${leak ? ' --leak' : ''}`, users: 1000, duration, workers: 2, leaks: { readings } })
}

function describe (r: RunResult): string {
  const l = r.leaks
  if (l === undefined) return 'no leak report'
  const f = l.figures
  return `${l.verdict}: ${l.reason}; ${l.samples.length} readings (${l.readings.cadence}); ` +
    `held ${l.readings.pausedMs} ms (${(l.readings.heldShare * 100).toFixed(1)}%), idle ${l.readings.idleMs} ms (${(l.readings.throughputCost * 100).toFixed(1)}%); ` +
    `noise ${(f.noiseBytes / 1024).toFixed(0)} KB, growth ${(f.growthPer1kOps.bytes / 1024).toFixed(1)} KB/1K ops, gc ${f.gcEffectiveness?.median.toFixed(2)}, peak ${(f.peakBytes / 2 ** 20).toFixed(1)} MB`
}

test.serial('1000 users, a session kept per visitor: flagged with quiet readings, each taken with nothing in flight, and the seed figures are sane', async t => {
  const r = await leakRun(t, true, 'quiet')
  const l = r.leaks!
  t.log(describe(r))
  t.is(l.verdict, 'leak', describe(r))
  t.is(l.readings.mode, 'quiet')
  // held readings: nothing left in flight, a measured pause each
  const held = l.samples.filter(s => (s.pauseMs ?? 0) > 0)
  t.true(held.length >= 8, describe(r))
  t.true(held.every(s => s.quiet === true && s.inFlight === 0 && s.drainMs! <= s.pauseMs!), describe(r))
  t.is(l.readings.notQuiet, 0)
  t.is(l.readings.pausedMs, Math.round(held.reduce((sum, s) => sum + s.pauseMs!, 0)))
  t.true(l.readings.idleMs <= l.readings.pausedMs && l.readings.throughputCost <= l.readings.heldShare && l.readings.loadMs >= 20_000)
  // the cadence is the planned duration's: at most 30 readings after the baseline, however fast
  // the server (an operation count from the first second read every 100 ms and held the load ~70%)
  t.regex(l.readings.cadence, /^from the planned duration: 20 s \/ 30 readings, every 0\.67 s/)
  t.true(l.samples.length <= 31, describe(r))
  t.true((held.at(-1)!.at - held[0]!.at) / (held.length - 1) >= 600, describe(r))
  t.is(l.readings.collector, 'gc')
  // the seed figures
  const f = l.figures
  t.true(f.growthPer1kOps.ciLow > 0 && f.growthPer1kOps.ciLow <= f.growthPer1kOps.bytes && f.growthPer1kOps.bytes <= f.growthPer1kOps.ciHigh, describe(r))
  t.is(f.growthPer1kOps.bytes, l.bytesPerOp * 1000)
  t.true(f.gcEffectiveness !== null && f.gcEffectiveness.readings === l.samples.length, describe(r))
  t.true(f.gcEffectiveness!.min >= 0 && f.gcEffectiveness!.max <= 1 && f.gcEffectiveness!.min <= f.gcEffectiveness!.median, describe(r))
  t.true(f.peakBytes >= f.finalBytes && f.finalBytes > 0)
  t.is(f.peakBytes, Math.max(...l.samples.map(s => s.usedBytes)))
  // a growing store ends above where it began (not necessarily at its peak: on a busy box one
  // reading's drain wait can run out with garbage still reachable from the requests in flight)
  t.true(f.finalBytes > l.samples[0]!.usedBytes, describe(r))
})

test.serial('1000 users, the same server without the leak: not flagged, quiet or under load (which holds nothing)', async t => {
  const quiet = await leakRun(t, false, 'quiet')
  t.log(`quiet: ${describe(quiet)}`)
  t.not(quiet.leaks?.verdict, 'leak', describe(quiet))
  // shorter: what is asserted here is that nothing is held and a clean server is not flagged
  const loaded = await leakRun(t, false, 'under-load', '8s')
  t.log(`under load: ${describe(loaded)}`)
  const l = loaded.leaks!
  t.is(l.readings.mode, 'under-load')
  t.true(l.samples.every(s => s.quiet === false && s.pauseMs === 0), 'under load: nothing held')
  t.is(l.readings.pausedMs, 0)
  t.not(l.verdict, 'leak', describe(loaded))
  // which mode is less noisy depends on the machine (a dry run on an idle box: 21 KB quiet, 16 KB
  // under load): the comparison at 1000 users lives in benchmarks/RESULTS.md, not in a test
})

test.serial('a target without process.getBuiltinModule (Node < 20.16) is collected by the inspector instead, and the report says so', async t => {
  const dir = tempDir(t)
  // the same clean server, as an older Node would present it
  writeFileSync(join(dir, 'server.mjs'), `delete process.getBuiltinModule\n${SERVER}`)
  const scenario = visitScenario(dir)
  const r = await run({ scenario, target: `cmd:node ${join(dir, 'server.mjs')}`, users: 20, iterations: 400, workers: 1, leaks: { everyOps: 400 } })
  const l = r.leaks!
  t.log(describe(r))
  t.is(l.readings.collector, 'inspector')
  t.regex(l.note ?? '', /^collected by HeapProfiler\.collectGarbage: the target has no process\.getBuiltinModule/)
  t.true(l.samples.length >= 4, describe(r))
  t.true(l.samples.every(s => s.usedBytes > 0 && s.beforeGcBytes! > 0), describe(r))
  // each one a real collection: the median reading recovered part of the heap
  t.true(l.figures.gcEffectiveness !== null && l.figures.gcEffectiveness.median > 0, describe(r))
  t.not(l.verdict, 'leak', describe(r))
  t.regex(l.readings.cadence, /^every 400 ops \(--leak-every\)$/)
})

/**
 * A server that answers GET /gc-seen with what its code can see of `gc`: on its global, and in a
 * new vm context it creates (as an application that uses vm would).
 */
const GC_PROBE_SERVER = `import { createServer } from 'node:http'
import vm from 'node:vm'
createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ global: typeof globalThis.gc, context: vm.runInNewContext('typeof gc') }))
}).listen(Number(process.env.PORT), process.env.HOST)
`

for (const exposed of [false, true]) {
  test.serial(`the target's gc() is borrowed without leaving it to the application (${exposed ? 'started with --expose-gc: kept as it was' : 'no --expose-gc: never seen'})`, async t => {
    const dir = tempDir(t)
    writeFileSync(join(dir, 'server.mjs'), GC_PROBE_SERVER)
    const want = exposed ? 'function' : 'undefined'
    const scenario = writeScenario(dir, 'probe.mjs', `export default defineScenario({
      name: 'gc-seen',
      async iteration (user) {
        const seen = (await user.http.get('/gc-seen', { name: 'gc-seen' })).json()
        user.check(seen.global === '${want}', 'global gc as the server was started')
        user.check(seen.context === '${want}', 'a new context sees gc only if the server was started so')
      }
    })`)
    const r = await run({ scenario, target: `cmd:node${exposed ? ' --expose-gc' : ''} ${join(dir, 'server.mjs')}`, users: 10, iterations: 100, workers: 1, leaks: { everyOps: 100 } })
    t.is(r.leaks?.readings.collector, 'gc')
    // readings were taken between the iterations, and every iteration saw gc as it was
    t.true(r.leaks!.samples.length >= 4, describe(r))
    t.like(r.metrics['checks'], { passes: 2000, fails: 0 }, JSON.stringify(r.checkFailures))
  })
}
