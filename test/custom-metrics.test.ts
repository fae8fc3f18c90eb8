// Custom metrics (user.metrics.trend/counter/rate/gauge) in real runs against the fixture: exact
// totals from known iteration counts, units in the summary and report.json, thresholds on
// declared metrics passing and failing as their numbers say, and the misuses reported as what
// they are (a counted scenario error, CT_ERR_SCENARIO_INVALID, CT_ERR_THRESHOLD_METRIC).
import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatSummary, run, type CrosstalkError, type RunResult } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

// 4 users x 5 iterations. Each iteration: GET /health (11 bytes: {"ok":true}), then a value the
// scenario computes: 10, 20, 30, 40, 50 for iterations 0..4 of every user. Thresholds may only
// name declared metrics; 'pings.sent' is not declared, so it is created by its first use.
const MEASURING = `export default defineScenario({
  name: 'measuring',
  metrics: {
    'calc.value': { kind: 'trend', unit: 'items', description: 'ten times the iteration number, plus ten' },
    'body.size': { kind: 'trend', unit: 'bytes' },
    'even.ok': { kind: 'rate' },
    'things.done': { kind: 'counter', unit: 'things' },
    'queue.depth': { kind: 'gauge' }
  },
  async iteration (user) {
    const res = await user.http.get('/health', { name: 'health' })
    const i = user.iterations
    user.metrics.trend('body.size').add(res.body.length)
    // ms, the default unit: the same microseconds http.req.duration recorded for this request
    user.metrics.trend('health.wait').add(res.durationMs)
    user.metrics.trend('calc.value').add(10 * (i + 1), { step: i < 2 ? 'early' : 'late' })
    user.metrics.counter('things.done').add(2)
    // not declared: created on first use, its unit from the call
    user.metrics.counter('pings.sent', { unit: 'pings' }).add()
    user.metrics.rate('even.ok').add(i % 2 === 0)
    user.metrics.gauge('queue.depth').set(user.id * 100 + i)
  }
})`

test('a custom trend, counter, rate and gauge: exact totals, units in the summary and report.json, thresholds on them', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'out')
  const scenario = writeScenario(dir, 'measuring.mjs', MEASURING)
  const r = await run({
    scenario,
    users: 4,
    iterations: 5,
    workers: 2,
    fixture: true,
    out,
    reports: { html: false, md: false, junit: false },
    thresholds: {
      'calc.value': ['max<=50', 'avg<30'],
      'calc.value{step:early}': ['max==20'],
      'things.done': 'count==40',
      'even.ok': 'rate>0.7',
      'queue.depth': 'max==304',
      'body.size': 'p(99)==11'
    }
  })
  t.deepEqual(r.thresholds.map(x => [x.metric, x.expression, x.value, x.passed]), [
    ['calc.value', 'max<=50', 50, true],
    ['calc.value', 'avg<30', 30, false],
    ['calc.value{step:early}', 'max==20', 20, true],
    ['things.done', 'count==40', 40, true],
    ['even.ok', 'rate>0.7', 0.6, false],
    ['queue.depth', 'max==304', 304, true],
    ['body.size', 'p(99)==11', 11, true],
    ['http.req.failed', 'rate<0.05', 0, true]
  ])
  t.is(r.status, 'failed')
  t.is(r.errors.count, 0)
  t.like(r.metrics['http.reqs'], { type: 'counter', count: 20 })

  t.like(r.metrics['calc.value'], { type: 'trend', count: 20, min: 10, med: 30, max: 50, avg: 30 })
  t.like(r.metrics['calc.value{step:early}'], { type: 'trend', count: 8, min: 10, max: 20 })
  t.like(r.metrics['calc.value{step:late}'], { type: 'trend', count: 12, min: 30, max: 50 })
  t.like(r.metrics['things.done'], { type: 'counter', count: 40 })
  t.like(r.metrics['even.ok'], { type: 'rate', passes: 12, fails: 8, rate: 0.6 })
  // the last value set anywhere, not a sum over the two threads
  t.like(r.metrics['queue.depth'], { type: 'gauge', min: 0, max: 304 })
  t.like(r.metrics['body.size'], { type: 'trend', count: 20, min: 11, max: 11 })
  t.deepEqual(r.customMetrics, {
    'body.size': { kind: 'trend', unit: 'bytes' },
    'calc.value': { kind: 'trend', unit: 'items', description: 'ten times the iteration number, plus ten' },
    'even.ok': { kind: 'rate' },
    'health.wait': { kind: 'trend' },
    'pings.sent': { kind: 'counter', unit: 'pings' },
    'queue.depth': { kind: 'gauge' },
    'things.done': { kind: 'counter', unit: 'things' }
  })
  t.like(r.metrics['pings.sent'], { type: 'counter', count: 20 })
  t.deepEqual(r.metrics['health.wait'], r.metrics['http.req.duration{name:health}'])

  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.deepEqual(report.customMetrics, r.customMetrics)
  t.deepEqual(report.metrics['calc.value'], r.metrics['calc.value'])

  const summary = formatSummary(r)
  t.regex(summary, /calc\.value \.+ avg=30 items min=10 items med=30 items .*max=50 items \(20\)/)
  t.regex(summary, / {2}\{step:early\} \.+ avg=15 items/)
  t.regex(summary, /body\.size \.+ avg=11 bytes/)
  t.regex(summary, /health\.wait \.+ avg=[\d.]+m?s min=/)
  t.regex(summary, /things\.done \.+ 40 things {2}/)
  t.regex(summary, /even\.ok \.+ 60\.00% {2}12 passed, 8 failed/)
  t.regex(summary, /queue\.depth \.+ peak 304 {2}\(min 0,/)
  t.regex(summary, /✗ even\.ok +rate>0\.7 +value 0\.6/)
})

test('a declared metric used as another kind is a counted iteration error, not a lost worker', async t => {
  const scenario = writeScenario(tempDir(t), 'mismatch.mjs', `export default defineScenario({
    name: 'mismatch',
    metrics: { 'orders.placed': { kind: 'counter' } },
    async iteration (user) {
      await user.http.get('/health')
      if (user.iterations === 1) user.metrics.trend('orders.placed').add(5)
      else if (user.iterations === 2) user.metrics.counter('http.mine').add()
      else user.metrics.counter('orders.placed').add()
    }
  })`)
  const r = await run({ scenario, users: 3, iterations: 4, workers: 1, fixture: true })
  t.is(r.users.lost, 0)
  t.is(r.users.completed, 3)
  t.is(r.errors.count, 6)
  t.like(r.metrics['orders.placed'], { type: 'counter', count: 6 })
  t.is(r.metrics['http.mine'], undefined)
  const messages = r.errors.groups.map(g => `${g.phase} ${g.count} ${g.message}`).sort()
  t.is(messages.length, 2, messages.join('\n'))
  t.regex(messages[0]!, /^iteration 3 user\.metrics\.counter\(\): metric name 'http\.mine' starts with 'http\.', reserved for built-in metrics/)
  t.regex(messages[1]!, /^iteration 3 user\.metrics\.trend\('orders\.placed'\): 'orders\.placed' is a counter .*use user\.metrics\.counter\('orders\.placed'\)/)
  t.like(r.metrics['http.reqs'], { type: 'counter', count: 12 })
})

test('thresholds on undeclared or mis-kinded custom metrics, and bad declarations, stop the run before any load', async t => {
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'declared.mjs', `export default defineScenario({
    name: 'declared',
    metrics: { 'calc.value': { kind: 'trend', unit: 'items' } },
    async iteration (user) { await user.http.get('/health') }
  })`)
  const undeclared = await t.throwsAsync<CrosstalkError>(run({ scenario, users: 1, iterations: 1, workers: 1, fixture: true, thresholds: { 'calc.valeu': 'max<1' } }))
  t.is(undeclared?.code, 'CT_ERR_THRESHOLD_METRIC')
  t.regex(undeclared?.message ?? '', /unknown metric 'calc\.valeu' in threshold 'calc\.valeu: max<1'; a custom metric must be declared in the scenario's `metrics`/)

  const kind = await t.throwsAsync<CrosstalkError>(run({ scenario, users: 1, iterations: 1, workers: 1, fixture: true, thresholds: { 'calc.value': 'count>1' } }))
  t.is(kind?.code, 'CT_ERR_THRESHOLD_METRIC')
  t.regex(kind?.message ?? '', /aggregation 'count' does not apply to metric 'calc\.value' \(a trend\)/)

  // with other problems the scenario is never read: the key is reported with the rest
  const both = await t.throwsAsync<CrosstalkError>(run({ scenario, users: 1, iterations: 1, workers: 0, fixture: true, thresholds: { 'calc.value': 'max<1' } }))
  t.is(both?.code, 'CT_ERR_CONFIG')
  t.regex(both?.message ?? '', /unknown metric 'calc\.value'.*once the other problems are fixed/)

  const bad = writeScenario(dir, 'bad.mjs', `export default defineScenario({
    name: 'bad',
    metrics: { 'http.mine': { kind: 'trend' }, iterations: { kind: 'counter' }, 'Upper': { kind: 'counter' }, 'ok.name': { kind: 'histogram', unit: 'ms' } },
    async iteration () {}
  })`)
  const invalid = await t.throwsAsync<CrosstalkError>(run({ scenario: bad, users: 1, iterations: 1, workers: 1, fixture: true }))
  t.is(invalid?.code, 'CT_ERR_SCENARIO_INVALID')
  for (const fragment of ["'http.mine' starts with 'http.'", "'iterations' is a built-in metric", "'Upper' must be lowercase", "kind \"histogram\" is not one of counter, gauge, rate, trend"]) {
    t.true((invalid?.message ?? '').includes(fragment), `${fragment}: ${invalid?.message ?? ''}`)
  }
})
