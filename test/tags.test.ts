// Tags, groups and k6 threshold keys (issue 17, part A): per-request and scenario tags and
// user.group() against the real fixture, with counts known from `iterations`; multi-tag
// thresholds read exactly the samples that carry those tags; k6's own parser test tables,
// ported; the per-tag value cap folds extras into `(other)` with a warning.
import test from 'ava'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { formatSummary, run, ScenarioInvalidError, type CounterSummary, type TrendSummary } from '../engine/index.js'
import { CookieJar, UserHttp } from '../engine/context/index.js'
import { MetricsAggregator, MetricsRecorder, metricKey } from '../engine/metrics/index.js'
import { compileThresholds, evaluateThresholds, parseThresholdExpression, parseThresholdKey } from '../engine/thresholds/index.js'
import { thresholdInputFrom } from '../engine/thresholds/evaluate.js'
import { ThresholdMetricError, ThresholdSyntaxError } from '../engine/errors.js'
import { fixture, tempDir, writeScenario } from './support.js'

const USERS = 4
const ITERATIONS = 5
const N = USERS * ITERATIONS

const count = (r: { metrics: Record<string, unknown> }, key: string): number | undefined => (r.metrics[key] as CounterSummary | undefined)?.count
const trendCount = (r: { metrics: Record<string, unknown> }, key: string): number | undefined => (r.metrics[key] as TrendSummary | undefined)?.count

test('request tags, scenario tags and nested groups record per tag and per combination; multi-tag thresholds read exactly their samples', async t => {
  const f = await fixture(t, { latencyMs: 5 })
  const scenario = writeScenario(tempDir(t), 'shop.mjs', `export default defineScenario({
    name: 'shop',
    tags: { team: 'shop' },
    async setup (user) { await user.http.post('/login', { json: { name: user.name } }) },
    async iteration (user) {
      await user.http.get('/me', { name: 'browse' })
      const inside = await user.group('checkout', async () => {
        await user.http.post('/items', { name: 'cart', json: { note: 'x' }, tags: { flow: 'checkout' } })
        await user.http.get('/me', { name: 'pay', tags: { flow: 'checkout' } })
        await user.group('confirm', () => user.http.get('/me', { name: 'pay' }))
        return 'done'
      })
      user.check(inside === 'done', 'group returns what fn returns')
      await user.group('failing', async () => { throw new Error('planted') }).catch(() => {})
    }
  })`)
  const r = await run({
    scenario,
    target: f.url,
    users: USERS,
    iterations: ITERATIONS,
    workers: 1,
    thresholds: {
      'http.reqs{group:checkout,name:pay}': ['count==' + N, 'count===' + N],
      'http.reqs{name:pay, flow:checkout}': 'count==' + N, // the nested pay has no flow tag
      'http.reqs{flow:checkout,group:checkout,team:shop}': 'count==' + 2 * N,
      'http.req.duration{group:checkout,name:pay}': ['min>=4', 'p(0)>=4', 'max<4'],
      'http.req.duration{group:checkout::confirm,name:pay}': 'p(100)<60000',
      'http.req.failed{group:checkout,team:shop}': 'rate==0',
      'group.duration{group:checkout,team:shop}': 'min>=12', // three 5 ms responses
      'http.reqs{group:nowhere,name:pay}': 'count==0'
    }
  })
  // ground truth: the fixture counted every request; logins (setup) carry the scenario's tags too
  const served = f.stats().requests
  t.is(served, USERS + 4 * N)
  t.is(count(r, 'http.reqs'), served)
  t.is(count(r, 'http.reqs{team:shop}'), served)
  t.is(count(r, 'http.reqs{flow:checkout}'), 2 * N)
  t.is(count(r, 'http.reqs{group:checkout}'), 2 * N)
  t.is(count(r, 'http.reqs{group:checkout::confirm}'), N)
  t.is(count(r, 'http.reqs{name:pay}'), 2 * N)
  t.is(count(r, 'http.reqs{name:browse}'), N)
  // one full-combination key per tag set, holding exactly its samples
  t.is(count(r, 'http.reqs{flow:checkout,group:checkout,name:pay,team:shop}'), N)
  t.is(count(r, 'http.reqs{group:checkout::confirm,name:pay,team:shop}'), N)
  t.is(count(r, 'http.reqs{name:browse,team:shop}'), N)
  t.is(count(r, 'http.reqs{group:checkout,name:pay}'), undefined, 'queries are merged, not stored')
  // group.duration: every group once per iteration, thrown or not, per path and in total
  t.is(trendCount(r, 'group.duration'), 3 * N)
  t.is(trendCount(r, 'group.duration{group:checkout}'), N)
  t.is(trendCount(r, 'group.duration{group:checkout::confirm}'), N)
  t.is(trendCount(r, 'group.duration{group:failing}'), N)
  t.is(count(r, 'errors'), undefined, 'a group that throws rethrows; the scenario caught it')
  t.is(r.checkFailures.length, 0)

  t.deepEqual(r.thresholds.map(x => [x.metric, x.expression, x.value, x.passed]), [
    ['http.reqs{group:checkout,name:pay}', 'count==' + N, N, true],
    ['http.reqs{group:checkout,name:pay}', 'count===' + N, N, true],
    ['http.reqs{flow:checkout,name:pay}', 'count==' + N, N, true],
    ['http.reqs{flow:checkout,group:checkout,team:shop}', 'count==' + 2 * N, 2 * N, true],
    ['http.req.duration{group:checkout,name:pay}', 'min>=4', r.thresholds[4]!.value, true],
    ['http.req.duration{group:checkout,name:pay}', 'p(0)>=4', r.thresholds[4]!.value, true],
    ['http.req.duration{group:checkout,name:pay}', 'max<4', r.thresholds[6]!.value, false],
    ['http.req.duration{group:checkout::confirm,name:pay}', 'p(100)<60000', r.thresholds[7]!.value, true],
    ['http.req.failed{group:checkout,team:shop}', 'rate==0', 0, true],
    ['group.duration{group:checkout,team:shop}', 'min>=12', r.thresholds[9]!.value, true],
    ['http.reqs{group:nowhere,name:pay}', 'count==0', 0, true]
  ])
  t.is(r.status, 'failed')
  t.deepEqual(r.failures.filter(x => x.includes('threshold')).length, 1, r.failures.join('; '))
  // the summary lists combination keys under their metric
  const summary = formatSummary(r)
  t.regex(summary, /\n {4}\{flow:checkout,group:checkout,name:pay,team:shop\} \.+ 20 /)
  t.regex(summary, /group\.duration \.+ avg=/)
})

test('a two-tag threshold fails and passes as its samples say: only the failing route inside the group counts', async t => {
  // a server written here: /bad answers 500, everything else 200
  const server = await listen((req, res) => { res.statusCode = req.url === '/bad' ? 500 : 200; res.end('ok') })
  t.teardown(() => close(server))
  const scenario = writeScenario(tempDir(t), 'bad-route.mjs', `export default defineScenario({
    name: 'bad-route',
    async iteration (user) {
      await user.http.get('/bad', { name: 'pay' })                        // fails, outside the group
      await user.group('checkout', async () => {
        await user.http.get('/ok', { name: 'pay' })                       // passes, inside
        await user.http.get('/bad', { name: 'wait' })                     // fails, inside, another name
      })
    }
  })`)
  const key = 'http.req.failed{group:checkout,name:pay}'
  const r = await run({
    scenario,
    target: url(server),
    users: 2,
    iterations: 3,
    workers: 1,
    thresholds: { [key]: ['rate==0', 'rate>0'], 'http.req.failed{name:pay}': 'rate==0.5', 'http.req.failed{group:checkout}': 'rate==0.5', 'http.reqs{name:pay,group:checkout}': 'count==6' }
  })
  t.deepEqual(r.thresholds.map(x => [x.metric, x.expression, x.value, x.passed]), [
    [key, 'rate==0', 0, true],
    [key, 'rate>0', 0, false],
    ['http.req.failed{name:pay}', 'rate==0.5', 0.5, true],
    ['http.req.failed{group:checkout}', 'rate==0.5', 0.5, true],
    ['http.reqs{group:checkout,name:pay}', 'count==6', 6, true]
  ])
  t.like(r.metrics['http.req.failed{group:checkout,name:pay}'], { passes: 0, fails: 6 })
})

test('the per-tag cap folds values past maxRequestNames into (other), with a report field and a summary warning', async t => {
  const f = await fixture(t, {})
  const scenario = writeScenario(tempDir(t), 'many.mjs', `export default defineScenario({
    name: 'many',
    async setup (user) { await user.http.post('/login', { json: { name: user.name } }) },
    async iteration (user) {
      await user.http.get('/me', { tags: { flow: 'f' + user.iterations } })
      await user.group('g' + user.iterations, () => user.http.get('/me'))
    }
  })`)
  const r = await run({ scenario, target: f.url, users: 2, iterations: 5, workers: 1, maxRequestNames: 3 })
  // every user goes f0, f1, f2, f3, f4: f0..f2 are kept, f3 and f4 fold (2 users x 2 iterations)
  t.is(count(r, 'http.reqs{flow:f2}'), 2)
  t.is(count(r, 'http.reqs{flow:f3}'), undefined)
  t.is(count(r, 'http.reqs{flow:(other)}'), 4)
  t.is(count(r, 'http.reqs{group:(other)}'), 4)
  t.is(trendCount(r, 'group.duration{group:(other)}'), 4)
  t.like(r.requestNames, { cap: 3, foldedTags: { flow: { values: 2, example: 'f3' }, group: { values: 2, example: 'g3' } } })
  t.is(r.requestNames.folded, undefined, 'no request name was folded')
  t.regex(formatSummary(r), /tag flow: WARNING 2 values beyond the cap of 3 \(maxRequestNames\) were folded into \(other\), e\.g\. 'f3'/)
})

test('bad tags and group names are CT_ERR_SCENARIO_INVALID: scenario tags before any load, request tags and groups as iteration errors', async t => {
  const dir = tempDir(t)
  const f = await fixture(t, {})
  const badScenario = writeScenario(dir, 'bad.mjs', `export default defineScenario({ name: 'bad', tags: { 'two words': 'x' }, async iteration () {} })`)
  const err = await t.throwsAsync(run({ scenario: badScenario, target: f.url, users: 1, iterations: 1 }), { instanceOf: ScenarioInvalidError })
  t.regex(err?.message ?? '', /tag name 'two words' must start with a letter/)
  t.is(f.stats().requests, 0, 'no load')
  const badCalls = writeScenario(dir, 'bad-calls.mjs', `export default defineScenario({
    name: 'bad-calls',
    async iteration (user) {
      await user.http.get('/health', { tags: { flow: 42 } }).catch(e => user.check(e.code === 'CT_ERR_SCENARIO_INVALID' && /non-empty string/.test(e.message), 'number value refused'))
      await user.http.get('/health', { tags: { flow: 'a,b:c' } }).catch(e => user.check(e.code === 'CT_ERR_SCENARIO_INVALID', 'second-tag lookalike refused'))
      await user.group('a::b', async () => {}).catch(e => user.check(e.code === 'CT_ERR_SCENARIO_INVALID', 'nesting separator refused'))
    }
  })`)
  const r = await run({ scenario: badCalls, target: f.url, users: 1, iterations: 2, workers: 1 })
  t.is(r.checkFailures.length, 0, JSON.stringify(r.checkFailures))
  t.like(r.metrics['checks'], { passes: 6, fails: 0 })
  t.is(count(r, 'http.reqs'), undefined, 'a refused request is not sent')
})

test('a request with only its name records exactly as before: the bare key and {name:x}, nothing else', async t => {
  const server = await listen((_req, res) => res.end('ok'))
  t.teardown(() => close(server))
  const recorder = new MetricsRecorder()
  const http = new UserHttp({ origin: url(server), timeoutMs: 5000, jar: new CookieJar(), recorder, body: { maxBytes: 1024, discard: false } })
  t.teardown(() => http.close(true))
  await http.get('/a', { name: 'get a' })
  await http.get('/b')
  const d = recorder.flush()
  t.deepEqual(Object.keys(d.counters).sort(), ['http.reqs', 'http.reqs{name:get a}'])
  t.deepEqual(Object.keys(d.trends).sort(), ['http.req.duration', 'http.req.duration{name:get a}'])
  t.deepEqual(Object.keys(d.rates).sort(), ['http.req.failed', 'http.req.failed{name:get a}'])
  // tagged: one key per tag and the full combination
  await http.get('/a', { name: 'get a', tags: { flow: 'x' } })
  t.deepEqual(Object.keys(recorder.flush().counters).sort(), ['http.reqs', 'http.reqs{flow:x,name:get a}', 'http.reqs{flow:x}', 'http.reqs{name:get a}'])
  // a cached tag set never lets a value of another type through
  recorder.tagged({ flow: '42' })
  t.throws(() => recorder.tagged({ flow: 42 as unknown as string }), { instanceOf: ScenarioInvalidError })
})

test('aggregator: a query on several tags is the exact merge of the combinations that hold them (checked by brute force)', t => {
  const recorder = new MetricsRecorder()
  const samples: Array<{ tags: Record<string, string>, ms: number, failed: boolean }> = []
  const values = { flow: ['a', 'b'], group: ['g', 'g::h'], name: ['x', 'y', 'z'] }
  for (let i = 0; i < 300; i++) {
    const tags: Record<string, string> = {}
    for (const [k, vs] of Object.entries(values)) if ((i * 7 + k.length * 3) % 4 !== 0) tags[k] = vs[(i * (k.length + 1)) % vs.length]!
    samples.push({ tags, ms: 1 + (i % 97), failed: i % 5 === 0 })
    const set = recorder.tagged(tags)
    recorder.count('http.reqs')
    for (const c of set.counters('http.reqs')) c.value++
    set.trend('http.req.duration', 1 + (i % 97))
    for (const r of set.rates('http.req.failed')) if (i % 5 === 0) r.passes++; else r.fails++
  }
  const agg = new MetricsAggregator(performance.now())
  agg.add(recorder.flush(), 'w1', performance.now())
  const queries: Array<Record<string, string>> = [{ flow: 'a', name: 'x' }, { group: 'g', name: 'y' }, { flow: 'b', group: 'g::h', name: 'z' }, { flow: 'a', group: 'g' }, { flow: 'b', name: 'nope' }]
  for (const q of queries) {
    const hits = samples.filter(s => Object.entries(q).every(([k, v]) => s.tags[k] === v))
    const key = (m: string): string => metricKey(m, q)
    t.is(agg.counter(key('http.reqs')), hits.length, key('http.reqs'))
    t.deepEqual(agg.rate(key('http.req.failed')), { passes: hits.filter(h => h.failed).length, fails: hits.filter(h => !h.failed).length })
    t.is(agg.trend(key('http.req.duration'))?.count, hits.length === 0 ? undefined : hits.length)
    // HDR keeps 3 significant digits
    if (hits.length > 0) t.true(Math.abs(agg.trend(key('http.req.duration'))!.max - Math.max(...hits.map(h => h.ms))) < 0.1)
    t.is(agg.has(key('http.reqs')), hits.length > 0)
  }
  // and through thresholds, as the runner evaluates them
  const [a, b] = evaluateThresholds(compileThresholds({ 'http.reqs{name:x,flow:a}': 'count>0', 'http.req.duration{ name : y , group : g }': 'p(0)>=1' }), thresholdInputFrom(agg, 1))
  t.is(a!.value, samples.filter(s => s.tags.flow === 'a' && s.tags.name === 'x').length)
  t.is(b!.metric, 'http.req.duration{group:g,name:y}')
})

// k6's own tables (metrics/metric_test.go TestParseMetricName, metrics/thresholds_parser_test.go),
// with k6's `test_metric` / `http_req_duration` written as crosstalk metrics.
test('k6 parser table: metric names with tags', t => {
  const ok: Array<[string, string, Record<string, string>]> = [
    ['http.reqs', 'http.reqs', {}],
    ['http.reqs{abc:123}', 'http.reqs{abc:123}', { abc: '123' }],
    ['http.reqs{abc:123,easyas:doremi}', 'http.reqs{abc:123,easyas:doremi}', { abc: '123', easyas: 'doremi' }],
    ['http.reqs{abc:123, easyas:doremi}', 'http.reqs{abc:123,easyas:doremi}', { abc: '123', easyas: 'doremi' }],
    ['http.reqs{group:::mygroup}', 'http.reqs{group:::mygroup}', { group: '::mygroup' }],
    ['http.req.duration{name:http://${}.com}', 'http.req.duration{name:http://${}.com}', { name: 'http://${}.com' }],
    ['http.req.duration{name:http://${}.com,url:ssh://github.com:grafana/k6}', 'http.req.duration{name:http://${}.com,url:ssh://github.com:grafana/k6}', { name: 'http://${}.com', url: 'ssh://github.com:grafana/k6' }],
    // crosstalk's own: sorted, so one tag set has one key; a scenario tag is kept for part D to route
    ['http.req.duration{scenario:chat,name:send}', 'http.req.duration{name:send,scenario:chat}', { name: 'send', scenario: 'chat' }]
  ]
  for (const [text, key, tags] of ok) {
    const k = parseThresholdKey(text)
    t.is(k.key, key, text)
    t.deepEqual(Object.keys(tags).length === 1 ? { [k.tag!.name]: k.tag!.value } : tags, tags, text)
  }
  const bad = [
    'http.reqs{easyas}', // tag without `:value`
    'http.reqs{easyas:}', // tag without value
    'http.reqs{abc:123,easyas:}', // one valid, one without value
    'http.reqs{abc:123,easyas:doremi', // unmatched '{'
    'http.reqsabc:123,easyas:doremi}', // unmatched '}'
    'http.reqs}abc:123,easyas:doremi}', // '}' before '{'
    'http.reqs}abc{bar', // braces the wrong way round
    'http.reqs{foo:ba}r' // text after the closing '}'
  ]
  for (const text of bad) t.throws(() => parseThresholdKey(text), { instanceOf: ThresholdSyntaxError }, text)
  // k6 accepts any metric name (a custom one); crosstalk only its own (custom metrics: part B)
  t.throws(() => parseThresholdKey('test_metric{abc:123}'), { instanceOf: ThresholdMetricError })
})

test('k6 parser table: expressions, aggregations and operators', t => {
  const ok: Array<[string, Record<string, unknown>]> = [
    ['count>20', { aggregation: 'count', op: '>', target: 20 }],
    ['p(99)<1', { aggregation: 'p', percentile: 99 }],
    ['p(99.9)<1', { aggregation: 'p', percentile: 99.9 }],
    ['p(0)<1', { aggregation: 'p', percentile: 0 }],
    ['p(100)<1', { aggregation: 'p', percentile: 100 }],
    ...(['count', 'rate', 'value', 'avg', 'min', 'max', 'med'].map(a => [`${a}<1`, { aggregation: a }] as [string, Record<string, unknown>])),
    ['avg<=1', { op: '<=' }], ['avg<1', { op: '<' }], ['avg>=1', { op: '>=' }], ['avg>1', { op: '>' }],
    ['avg===1', { op: '==' }], ['avg==1', { op: '==' }], ['avg!=1', { op: '!=' }],
    ['  avg  <=1', { aggregation: 'avg', op: '<=' }], ['avg<=  1  ', { op: '<=', target: 1 }]
  ]
  for (const [text, want] of ok) t.like(parseThresholdExpression(text), want, text)
  const bad = ['count!20', 'foo>20', 'count>abc', 'foo<1', 'p()<1', 'p(99<1', 'p(foo)<1', 'p(-1)<1', 'p(101)<1', 'p(NaN)<1', 'p(+Inf)<1', 'avg!1']
  for (const text of bad) t.throws(() => parseThresholdExpression(text), { instanceOf: ThresholdSyntaxError }, text)
})

function listen (handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler)
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function url (server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close (server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}
