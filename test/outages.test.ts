// Outages: the fixture child stops listening at 4 s and comes back on its port at 7 s; the run
// reports one outage of about 3 s whose end (the first success after it) matches the fixture's
// own log, a recovery time, a JUnit case per outage threshold; a clean run reports none.
import test, { type ExecutionContext } from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, type RunResult } from '../engine/index.js'
import { fixture, tempDir, writeScenario } from './support.js'
import { attributes, figures, openInChromium, pageErrors, reportSchemaErrors } from './report-support.js'

// one request every ~20 ms per user: steady throughput, so the pre-outage median is meaningful
const SCENARIO = `
export default {
  name: 'outage',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
  },
  async iteration (user) {
    await user.http.get('/items', { name: 'list items' })
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
`

const THRESHOLDS = { 'outage.recovery': ['max<10000'], 'outage.duration': ['max<1000'], 'http.req.failed': ['rate<1'] }

async function outageRun (t: ExecutionContext, fault: { downAtMs?: number, downForMs?: number }, duration: string): Promise<{ r: RunResult, dir: string }> {
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'outage.mjs', SCENARIO)
  const r = await run({
    scenario,
    fixture: { process: 'child', ...fault },
    users: 8,
    duration,
    workers: 1,
    errorBackoff: '50ms',
    thresholds: THRESHOLDS,
    out: join(dir, 'out')
  })
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as RunResult
  t.deepEqual(reportSchemaErrors(report), [], 'report.json follows schema/report.schema.json')
  t.deepEqual(report.outages, r.outages)
  return { r, dir }
}

test("the fixture down at 4 s for 3 s: one outage of 3 s, its end at the fixture's return, recovery measured, thresholds and JUnit on it", async t => {
  const { r, dir } = await outageRun(t, { downAtMs: 4000, downForMs: 3000 }, '10s')
  const log = r.target.fixture?.faults.outages ?? []
  t.is(log.length, 1, JSON.stringify(r.target.fixture?.faults))
  const lived = log[0]!
  t.log('fixture:', JSON.stringify(lived), 'crosstalk:', JSON.stringify(r.outages), 'run started', Date.parse(r.startedAt))
  t.is(r.outages.length, 1, JSON.stringify(r.outages))
  const o = r.outages[0]!
  const origin = Date.parse(r.startedAt)
  t.true(o.ended)
  t.true(Math.abs(o.durationMs - 3000) <= 1000, `duration ${o.durationMs} ms`)
  // the outage's edges against the fixture's own log, on the epoch clock
  t.true(Math.abs(origin + o.startMs - lived.downAt) <= 1000, `start ${origin + o.startMs - lived.downAt} ms off the fixture's`)
  t.true(Math.abs(origin + o.endMs - lived.firstServedAt!) <= 1000, `end ${origin + o.endMs - lived.firstServedAt!} ms off the fixture's first answer`)
  t.true(lived.firstServedAt! >= lived.upAt!)
  t.true(o.detectMs > 0 && o.detectMs <= 2000, `detect ${o.detectMs} ms`)
  t.not(o.recoveryMs, null)
  t.true(o.recoveryMs! < 10_000)
  t.true(o.failedRequests > 0)
  // the metrics thresholds read
  t.is(r.metrics['outages']?.type === 'counter' ? r.metrics['outages'].count : -1, 1)
  const recovery = r.thresholds.find(x => x.metric === 'outage.recovery')!
  t.true(recovery.passed)
  t.is(recovery.value, o.recoveryMs)
  const duration = r.thresholds.find(x => x.metric === 'outage.duration')!
  t.false(duration.passed)
  t.is(duration.value, o.durationMs)
  t.is(r.status, 'failed')
  const xml = readFileSync(join(dir, 'out', 'junit.xml'), 'utf8')
  t.regex(xml, /<testcase classname="crosstalk.thresholds" name="outage.duration: max&lt;1000"[^>]*>\s*<failure/)
  // the outage itself is evidence in system-out; the thresholds on it are the cases
  t.regex(xml, /<system-out>[^<]*outage 1: \d+\.\d\d s -&gt; \d+\.\d\d s \(\d\.\d\d s\)/)
  const md = readFileSync(join(dir, 'out', 'summary.md'), 'utf8')
  t.regex(md, /## Outages \(1\)\n[\s\S]*\| 1 \| \d+\.\d\d s \| \d+\.\d\d s \|/)
  const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8')
  t.regex(html, /<ul class="lines" id="outages"><li>outage 1: /)
  // every per-second chart shades it
  const charts = [...html.matchAll(/<figure class="chart" id="chart-([^"]+)"[^>]*>/g)]
  t.true(charts.length >= 3)
  for (const f of charts) t.regex(f[0], /data-bands="1"/, f[1])
  t.regex(html, /"bands":\[\{"from":\d+(\.\d+)?,"to":\d+(\.\d+)?,"label":"outage 1"\}\]/)
  // drawn: headless Chromium runs the page's script, which shades the band on each chart
  const dom = await openInChromium(join(dir, 'out', 'report.html'), join(dir, 'out', 'report.png'))
  t.is(pageErrors(dom), '')
  t.is(attributes(dom, '<body')!['data-errors'], '0')
  const drawn = figures(dom)
  t.is(drawn.length, charts.length)
  for (const f of drawn) t.is(f['data-bands-drawn'], '1', f.id)
})

test('a clean run: no outage, the outage thresholds pass on nothing to recover from', async t => {
  const { r, dir } = await outageRun(t, {}, '4s')
  t.deepEqual(r.outages, [])
  t.deepEqual(r.target.fixture?.faults.outages, [])
  t.is(r.metrics['outages'], undefined)
  t.true(r.thresholds.every(x => x.passed), JSON.stringify(r.thresholds))
  t.is(r.status, 'passed')
  const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8')
  t.notRegex(html, /data-bands=|id="outages"/)
  t.notRegex(readFileSync(join(dir, 'out', 'junit.xml'), 'utf8'), /outage 1/)
})

/** GET `path` on a fresh connection: the status, or the transport error's code. */
async function get (url: string, path = '/items'): Promise<number | string> {
  try {
    const res = await fetch(new URL(path, url), { headers: { connection: 'close' } })
    await res.arrayBuffer()
    return res.status
  } catch (err) {
    return ((err as { cause?: { code?: string } }).cause?.code) ?? 'error'
  }
}

test('crashAfterRequests: the n-th request takes the server down, it refuses connections, and comes back on its port after downForMs', async t => {
  const f = await fixture(t, { crashAfterRequests: 3, downForMs: 400 })
  t.deepEqual([await get(f.url), await get(f.url)], [401, 401])
  t.not(await get(f.url), 401) // the third: its connection destroyed
  t.is(await get(f.url), 'ECONNREFUSED')
  await new Promise(resolve => setTimeout(resolve, 600))
  t.is(await get(f.url), 401)
  const [o, ...more] = f.stats().faults.outages
  t.deepEqual(more, [])
  t.is(o!.cause, 'requests')
  t.true(o!.upAt! - o!.downAt >= 400 && o!.upAt! - o!.downAt < 600, `${o!.upAt! - o!.downAt} ms down`)
  t.true(o!.firstServedAt! >= o!.upAt!)
})

test('dropShare: that share of requests has its connection destroyed unanswered, counted; 0 drops nothing', async t => {
  const all = await fixture(t, { dropShare: 1 })
  const none = await fixture(t, {})
  const statuses = await Promise.all([1, 2, 3, 4].map(() => get(all.url)))
  t.true(statuses.every(s => typeof s === 'string'), statuses.join(','))
  t.is(all.stats().faults.droppedConnections, 4)
  t.deepEqual(await Promise.all([1, 2, 3, 4].map(() => get(none.url))), [401, 401, 401, 401])
  t.deepEqual(none.stats().faults, { outages: [], droppedConnections: 0 })
})
