// Pure parts: durations, cohort planning, HDR merge across "threads", error grouping.
import test from 'ava'
import { MetricsAggregator, MetricsRecorder, METRICS, metricKey, splitKey } from '../engine/metrics/index.js'
import { withTag } from '../engine/metrics/names.js'
import { planCohorts } from '../engine/pool/cohorts.js'
import { ErrorGroups } from '../engine/pool/error-groups.js'
import { parseDuration, isLoopbackHost } from '../engine/shared/index.js'
import { InvalidDurationError } from '../engine/errors.js'

test('parseDuration reads units, compounds and bare seconds', t => {
  t.is(parseDuration('500ms'), 500)
  t.is(parseDuration('10s'), 10_000)
  t.is(parseDuration('2m'), 120_000)
  t.is(parseDuration('1m30s'), 90_000)
  t.is(parseDuration('1.5s'), 1500)
  t.is(parseDuration('3'), 3000)
  t.is(parseDuration(250), 250)
})

test('parseDuration rejects junk with CT_ERR_DURATION', t => {
  for (const bad of ['', 'abc', '10x', '-1s', '0s', '5s trailing', 's']) {
    const err = t.throws(() => parseDuration(bad), { instanceOf: InvalidDurationError })
    t.is(err?.code, 'CT_ERR_DURATION', bad)
  }
})

test('planCohorts covers every user exactly once and gives each thread work', t => {
  for (const [users, threads] of [[1000, 2], [1, 2], [7, 3], [10_000, 4], [60, 2]] as const) {
    const cohorts = planCohorts(users, threads)
    t.is(cohorts.reduce((n, c) => n + c.size, 0), users)
    t.deepEqual(cohorts.map(c => c.firstUser), cohorts.map((_c, i) => cohorts.slice(0, i).reduce((n, c) => n + c.size, 0)))
    if (users >= threads) t.true(cohorts.length >= threads, `${users} users on ${threads} threads`)
    t.true(cohorts.every(c => c.size <= 250))
  }
})

test('histograms recorded in separate recorders merge exactly', t => {
  const a = new MetricsRecorder()
  const b = new MetricsRecorder()
  for (let i = 1; i <= 1000; i++) (i % 2 === 0 ? a : b).trend(METRICS.httpReqDuration, i) // 1..1000 ms
  a.count(METRICS.httpReqs, 500)
  b.count(METRICS.httpReqs, 500)
  a.rate(METRICS.checks, true)
  b.rate(METRICS.checks, false)
  const agg = new MetricsAggregator(performance.now())
  agg.add(a.flush(), 'a', performance.now())
  agg.add(b.flush(), 'b', performance.now())
  const s = agg.summary(1)
  t.is(agg.counter(METRICS.httpReqs), 1000)
  t.deepEqual(agg.rate(METRICS.checks), { passes: 1, fails: 1 })
  const d = s[METRICS.httpReqDuration]
  if (d?.type !== 'trend') return t.fail('no trend')
  t.is(d.count, 1000)
  t.is(d.min, 1)
  // 3 significant digits: every percentile within 0.1% of the exact value
  for (const [got, exact] of [[d.med, 500], [d.p90, 900], [d.p95, 950], [d.p99, 990], [d.max, 1000]] as const) {
    t.true(Math.abs(got - exact) / exact <= 0.001, `${got} vs ${exact}`)
  }
  // a flushed recorder starts empty
  t.deepEqual(a.flush(), { counters: {}, rates: {}, trends: {}, gauges: {} })
})

test('gauges sum the latest value of each source', t => {
  const agg = new MetricsAggregator(performance.now())
  agg.setGauge(METRICS.usersActive, 'c0', 100, performance.now())
  agg.setGauge(METRICS.usersActive, 'c1', 150, performance.now())
  agg.setGauge(METRICS.usersActive, 'c0', 40, performance.now())
  t.like(agg.gauge(METRICS.usersActive), { value: 190, max: 250, min: 100 })
})

test('error groups count repeats and stay bounded', t => {
  const g = new ErrorGroups()
  for (let i = 0; i < 1000; i++) g.add('iteration', `user-${i}`, new Error(i < 900 ? 'boom' : `distinct ${i}`))
  const list = g.list()
  t.is(g.total, 1000)
  t.is(list[0]?.count, 900)
  t.is(list[0]?.user, 'user-0')
  t.true(list.length <= 51)
  t.is(list.reduce((n, x) => n + x.count, 0), 1000)
})

test('loopback detection', t => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) t.true(isLoopbackHost(h), h)
  for (const h of ['example.com', '203.0.113.9', '[2001:db8::1]', '0.0.0.0', '128.0.0.1']) t.false(isLoopbackHost(h), h)
})

test('metric keys: several tags in one key, sorted by name; values may hold colons and braces; one more tag added', t => {
  t.is(metricKey('http.reqs', {}), 'http.reqs')
  t.is(metricKey('http.req.duration', { scenario: 'chat', name: 'send' }), 'http.req.duration{name:send,scenario:chat}')
  t.deepEqual(splitKey('http.req.duration{name:send,scenario:chat}'), { metric: 'http.req.duration', tags: { name: 'send', scenario: 'chat' } })
  t.deepEqual(splitKey('http.req.duration{name:GET http://a:1/{id},x}'), { metric: 'http.req.duration', tags: { name: 'GET http://a:1/{id},x' } })
  t.deepEqual(splitKey('http.reqs'), { metric: 'http.reqs', tags: {} })
  t.is(withTag('http.reqs{name:get item}', 'scenario', 'chat'), 'http.reqs{name:get item,scenario:chat}')
  t.is(withTag('http.reqs', 'scenario', 'chat'), 'http.reqs{scenario:chat}')
  t.is(withTag('http.reqs{scenario:a}', 'scenario', 'b'), 'http.reqs{scenario:b}')
  for (const key of ['checks{check:status is 200}', 'ws.closes{code:1006}', 'http.reqs{flow:checkout,name:pay,scenario:shop}']) {
    const { metric, tags } = splitKey(key)
    t.is(metricKey(metric, tags), key)
  }
})

test('error groups past the 50-group cap fold into "(other errors)" per phase and cause, keeping code and cause', t => {
  const g = new ErrorGroups()
  // distinct messages (letters: digits and hex ids are normalized into one group)
  const word = (i: number): string => String.fromCharCode(97 + i % 26) + String.fromCharCode(97 + Math.floor(i / 26))
  for (let i = 0; i < 50; i++) g.add('iteration', `user-${i}`, new Error(`boom ${word(i)}`))
  const refused = (i: number): Error => Object.assign(new Error(`GET /${word(i)} failed`), { code: 'CT_ERR_HTTP', cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) })
  for (let i = 100; i < 107; i++) g.add('iteration', 'user-1', refused(i))
  for (let i = 200; i < 204; i++) g.add('setup', 'user-2', Object.assign(new Error(`reset ${word(i)}`), { code: 'ECONNRESET' }))
  for (let i = 300; i < 303; i++) g.add('iteration', 'user-3', new Error(`plain ${word(i)}`))
  g.add('iteration', 'user-9', new Error(`boom ${word(0)}`)) // a group already kept still counts its repeats
  const list = g.list()
  t.is(g.total, 50 + 7 + 4 + 3 + 1)
  t.is(list.reduce((n, x) => n + x.count, 0), g.total)
  const others = list.filter(x => x.message === '(other errors)')
  t.is(list.length - others.length, 50)
  t.is(others.length, 3)
  t.like(others.find(x => x.cause === 'ECONNREFUSED'), { phase: 'iteration', code: 'CT_ERR_HTTP', count: 7 })
  t.like(others.find(x => x.code === 'ECONNRESET'), { phase: 'setup', count: 4 })
  t.like(others.find(x => x.code === undefined && x.cause === undefined), { phase: 'iteration', count: 3 })
  t.is(list.find(x => x.message === 'boom aa')?.count, 2)
})
