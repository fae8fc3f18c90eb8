// Thresholds: expressions, keys, definitions, flags, evaluation against real metric totals.
import test from 'ava'
import { MetricsAggregator, MetricsRecorder, METRICS, taggedKey } from '../engine/metrics/index.js'
import {
  parseThresholdExpression, parseThresholdKey, compileThresholds, mergeThresholdFlags,
  evaluateThresholds, ThresholdWatch, formatThresholdLines, type ThresholdDefinitions
} from '../engine/thresholds/index.js'
import { thresholdInputFrom } from '../engine/thresholds/evaluate.js'
import { parseThresholdFlag } from '../engine/thresholds/compile.js'
import { ThresholdMetricError, ThresholdSyntaxError } from '../engine/errors.js'

const GET_ITEM = taggedKey(METRICS.httpReqDuration, 'name', 'get item')

test('valid expressions parse to aggregation, op and target', t => {
  t.deepEqual(parseThresholdExpression('p(95)<50'), { expression: 'p(95)<50', aggregation: 'p', percentile: 95, op: '<', target: 50 })
  t.deepEqual(parseThresholdExpression('  p( 99.9 ) <= 200 '), { expression: 'p( 99.9 ) <= 200', aggregation: 'p', percentile: 99.9, op: '<=', target: 200 })
  t.like(parseThresholdExpression('avg<100'), { aggregation: 'avg', op: '<', target: 100 })
  t.like(parseThresholdExpression('med>=1'), { aggregation: 'med', op: '>=', target: 1 })
  t.like(parseThresholdExpression('min>0'), { aggregation: 'min', op: '>', target: 0 })
  t.like(parseThresholdExpression('max<1000'), { aggregation: 'max', op: '<', target: 1000 })
  t.like(parseThresholdExpression('rate<0.01'), { aggregation: 'rate', op: '<', target: 0.01 })
  t.like(parseThresholdExpression('count==0'), { aggregation: 'count', op: '==', target: 0 })
  t.like(parseThresholdExpression('count != -1.5'), { aggregation: 'count', op: '!=', target: -1.5 })
  t.like(parseThresholdExpression('value<5e6'), { aggregation: 'value', op: '<', target: 5e6 })
  t.like(parseThresholdExpression('rate<.5E-2'), { target: 0.005 })
  t.like(parseThresholdExpression('p(100)<1'), { percentile: 100 })
  t.is(parseThresholdExpression('avg<1').percentile, undefined)
})

test('invalid expressions throw CT_ERR_THRESHOLD_SYNTAX quoting the expression and the fragment', t => {
  const cases: Array<[string, string]> = [
    ['p(95<50', "bad threshold expression 'p(95<50' at '<50': expected ')'"],
    ['p95<50', "at 'p95<50': unknown aggregation 'p95'"],
    ['avg', 'at the end: expected an operator'],
    ['avg<', "at the end: expected a number after '<'"],
    ['avg=5', "at '=5'"],
    ['avg<<5', "at '<5': expected a number"],
    ['avg====5', "at '=5': expected a number"],
    ['avg<5ms', "at 'ms': unexpected text after the number"],
    ['p(-1)<5', "at '-1)<5': a percentile must be between 0 and 100"],
    ['p(101)<5', "at '101)<5'"],
    ['p()<5', "at ')<5': expected a percentile"],
    ['p<5', "at '<5': expected '('"],
    ['mean<5', "unknown aggregation 'mean'"],
    ['<5', "at '<5': expected an aggregation"],
    ['avg<1e999', "at '1e999': the number is out of range"],
    ['', "bad threshold expression ''"]
  ]
  for (const [text, fragment] of cases) {
    const err = t.throws(() => parseThresholdExpression(text), { instanceOf: ThresholdSyntaxError }, text)
    t.is(err?.code, 'CT_ERR_THRESHOLD_SYNTAX', text)
    t.true(err?.message.includes(fragment), `${text}: ${err?.message}`)
    t.true(err?.message.includes(`'${text}'`), `quotes the expression: ${err?.message}`)
  }
  t.regex(t.throws(() => parseThresholdExpression('p95<50'))?.message ?? '', /did you mean 'p\(95\)'/)
  t.regex(t.throws(() => parseThresholdExpression('AVG<5'))?.message ?? '', /did you mean 'avg'/)
})

test('keys: base metric, one tag (value may hold ":"), kind, normalized key', t => {
  t.deepEqual(parseThresholdKey('http.req.duration'), { key: 'http.req.duration', metric: 'http.req.duration', kind: 'trend' })
  t.deepEqual(parseThresholdKey('http.req.duration{name:get item}'), {
    key: GET_ITEM, metric: 'http.req.duration', tag: { name: 'name', value: 'get item' }, kind: 'trend'
  })
  t.like(parseThresholdKey(' checks{ check : own item } '), { key: 'checks{check:own item}', kind: 'rate' })
  t.like(parseThresholdKey('ws.closes{code:1006}'), { key: 'ws.closes{code:1006}', metric: 'ws.closes', kind: 'counter', tag: { name: 'code', value: '1006' } })
  t.like(parseThresholdKey('http.req.duration{name:GET /a:b}'), { tag: { name: 'name', value: 'GET /a:b' } })
  t.like(parseThresholdKey('users.active'), { kind: 'gauge' })
})

test('malformed keys throw CT_ERR_THRESHOLD_SYNTAX quoting the fragment', t => {
  const cases: Array<[string, string]> = [
    ['http.req.duration{name}', "at '{name}'"],
    ['http.req.duration{name:get item', "at '{name:get item'"],
    ['http.req.duration}', "at '}'"],
    ['http.req.duration{name:a}x', "at 'x'"],
    ['http.req.duration{,name:a}', 'expected a tag as {name:value}'],
    ['http.req.duration{name:a,name:b}', "tag 'name' given twice"],
    ['http.req.duration{n a:b}', "tag name 'n a'"],
    ['{name:a}', "at '{name:a}'"],
    ['http.req.duration{:a}', 'empty tag name'],
    ['http.req.duration{name:}', 'empty tag value'],
    ['http.req.duration{name:a,status:}', "empty tag value for 'status'"],
    ['  ', 'empty metric name']
  ]
  for (const [key, fragment] of cases) {
    const err = t.throws(() => parseThresholdKey(key), { instanceOf: ThresholdSyntaxError }, key)
    t.is(err?.code, 'CT_ERR_THRESHOLD_SYNTAX')
    t.true(err?.message.includes(fragment), `${key}: ${err?.message}`)
  }
})

test('unknown metrics throw CT_ERR_THRESHOLD_METRIC with a did-you-mean hint when one name is close', t => {
  const err = t.throws(() => compileThresholds({ 'http.req.duraton': 'p(95)<50' }), { instanceOf: ThresholdMetricError })
  t.is(err?.code, 'CT_ERR_THRESHOLD_METRIC')
  t.is(err?.message, "unknown metric 'http.req.duraton' in threshold 'http.req.duraton: p(95)<50'; did you mean 'http.req.duration'?")
  t.regex(t.throws(() => parseThresholdKey('http_req_failed{name:x}'))?.message ?? '', /did you mean 'http\.req\.failed'\?$/)
  const far = t.throws(() => parseThresholdKey('bananas'), { instanceOf: ThresholdMetricError })
  t.is(far?.message, "unknown metric 'bananas' in threshold 'bananas'")
})

test('aggregations must fit the metric kind', t => {
  const ok: ThresholdDefinitions = {
    'http.req.duration': ['avg<1', 'min<1', 'med<1', 'max<1', 'p(90)<1'],
    checks: 'rate>0.99',
    'http.reqs': ['count>1', 'rate>1'],
    'users.active': ['value<1', 'min<1', 'max<1']
  }
  t.is(compileThresholds(ok).length, 11)
  for (const [key, expr, allowed] of [
    ['checks', 'avg<1', 'use rate'],
    ['http.req.duration', 'rate<0.1', 'use avg, min, med, max, p(N)'],
    ['http.reqs', 'p(95)<1', 'use count, rate'],
    ['users.active', 'count<1', 'use value, min, max'],
    ['http.req.failed', 'count==0', 'use rate']
  ] as const) {
    const err = t.throws(() => compileThresholds({ [key]: expr }), { instanceOf: ThresholdMetricError }, `${key}: ${expr}`)
    t.true(err?.message.includes(`metric '${key}'`), err?.message)
    t.true(err?.message.includes(`'${key}: ${expr}'`), err?.message)
    t.true(err?.message.endsWith(allowed), err?.message)
  }
  t.regex(t.throws(() => compileThresholds({ checks: 'avg<1' }))?.message ?? '', /\(a rate\)/)
})

test('compileThresholds flattens definitions in order with defaults and delays', t => {
  const list = compileThresholds({
    'http.req.duration{name:get item}': ['p(99.9) < 200 ', { threshold: 'max<1000', abortOnFail: true, delayAbortEval: '1m30s' }],
    'http.req.failed': [{ threshold: 'rate<0.01', abortOnFail: true }],
    'isolation.violations': 'count==0',
    'http.reqs': [{ threshold: 'rate>10', delayAbortEval: 2500 }]
  })
  t.deepEqual(list, [
    { key: GET_ITEM, metric: 'http.req.duration', tag: { name: 'name', value: 'get item' }, kind: 'trend', expression: 'p(99.9) < 200', aggregation: 'p', percentile: 99.9, op: '<', target: 200, abortOnFail: false, delayAbortEvalMs: 0 },
    { key: GET_ITEM, metric: 'http.req.duration', tag: { name: 'name', value: 'get item' }, kind: 'trend', expression: 'max<1000', aggregation: 'max', op: '<', target: 1000, abortOnFail: true, delayAbortEvalMs: 90_000 },
    { key: 'http.req.failed', metric: 'http.req.failed', kind: 'rate', expression: 'rate<0.01', aggregation: 'rate', op: '<', target: 0.01, abortOnFail: true, delayAbortEvalMs: 0 },
    { key: 'isolation.violations', metric: 'isolation.violations', kind: 'counter', expression: 'count==0', aggregation: 'count', op: '==', target: 0, abortOnFail: false, delayAbortEvalMs: 0 },
    { key: 'http.reqs', metric: 'http.reqs', kind: 'counter', expression: 'rate>10', aggregation: 'rate', op: '>', target: 10, abortOnFail: false, delayAbortEvalMs: 2500 }
  ])
  t.deepEqual(compileThresholds(undefined), [])
  t.deepEqual(compileThresholds({}), [])
})

test('compileThresholds rejects bad shapes with CT_ERR_THRESHOLD_SYNTAX naming the offending text', t => {
  const bad = (defs: unknown): ThresholdDefinitions => defs as ThresholdDefinitions
  const cases: Array<[unknown, string]> = [
    ['p(95)<50', "got 'p(95)<50'"],
    [['p(95)<50'], 'got ["p(95)<50"]'],
    [null, 'got null'],
    [{ 'http.req.duration': [] }, "threshold 'http.req.duration' has an empty list"],
    [{ 'http.req.duration': 50 }, "threshold 'http.req.duration' must be an expression or a list of expressions, got 50"],
    [{ 'http.req.duration': { threshold: 'p(95)<50' } }, 'got {"threshold":"p(95)<50"}'],
    [{ 'http.req.duration': [42] }, 'item 1 must be an expression'],
    [{ 'http.req.duration': ['avg<1', { abortOnFail: true }] }, 'item 2 {"abortOnFail":true} needs a string \'threshold\''],
    [{ 'http.req.duration': [{ threshold: 'avg<1', abortOnFial: true }] }, "unknown field 'abortOnFial'"],
    [{ 'http.req.duration': [{ threshold: 'avg<1', abortOnFail: 'yes' }] }, "'abortOnFail' must be true or false"],
    [{ 'http.req.duration': [{ threshold: 'avg<1', delayAbortEval: '10x' }] }, "'10x'"],
    [{ 'http.req.duration': [{ threshold: 'avg<1', delayAbortEval: true }] }, "'delayAbortEval' must be a duration"],
    [{ 'http.req.duration': 'p(95<50' }, "bad threshold expression 'p(95<50' at '<50': expected ')' (threshold on 'http.req.duration')"],
    [{ 'http.req.duration{name}': 'p(95)<50' }, "at '{name}'"]
  ]
  for (const [defs, fragment] of cases) {
    const err = t.throws(() => compileThresholds(bad(defs)), { instanceOf: ThresholdSyntaxError }, JSON.stringify(defs))
    t.is(err?.code, 'CT_ERR_THRESHOLD_SYNTAX')
    t.true(err?.message.includes(fragment), `${JSON.stringify(defs)}: ${err?.message}`)
  }
})

test('threshold flags split at the first ":" outside braces and merge into definitions', t => {
  t.deepEqual(parseThresholdFlag('http.req.duration{name:get item}: p(95)<50'), { key: 'http.req.duration{name:get item}', expression: 'p(95)<50' })
  t.deepEqual(parseThresholdFlag('checks{check:a:b}:rate>0.9'), { key: 'checks{check:a:b}', expression: 'rate>0.9' })
  t.deepEqual(parseThresholdFlag(' http.req.failed :  rate<0.01 '), { key: 'http.req.failed', expression: 'rate<0.01' })
  for (const [text, fragment] of [
    ['http.req.duration p(95)<50', "expected ':'"],
    ['http.req.duration{name:x p(95)<50', "expected ':'"],
    [': p(95)<50', 'the metric before'],
    ['http.req.duration:  ', 'the expression after']
  ] as const) {
    const err = t.throws(() => parseThresholdFlag(text), { instanceOf: ThresholdSyntaxError }, text)
    t.true(err?.message.includes(`'${text}'`) && err.message.includes(fragment), err?.message)
  }
  const defs: ThresholdDefinitions = { 'http.req.duration': 'p(95)<50', checks: ['rate>0.99'] }
  const merged = mergeThresholdFlags(defs, ['http.req.duration: max<900', 'checks: rate==1', 'http.reqs: count>0'])
  t.deepEqual(merged, {
    'http.req.duration': ['p(95)<50', 'max<900'],
    checks: ['rate>0.99', 'rate==1'],
    'http.reqs': ['count>0']
  })
  t.deepEqual(defs, { 'http.req.duration': 'p(95)<50', checks: ['rate>0.99'] }, 'input untouched')
  t.deepEqual(mergeThresholdFlags(undefined, ['iterations: count>0']), { iterations: ['count>0'] })
  t.is(compileThresholds(merged).length, 5)
})

/** A real aggregator fed by two real recorders, as the runner does with worker deltas. */
function runTotals (): MetricsAggregator {
  const a = new MetricsRecorder()
  const b = new MetricsRecorder()
  for (let i = 1; i <= 1000; i++) (i % 2 === 0 ? a : b).trend(GET_ITEM, i) // 1..1000 ms
  a.trend(METRICS.httpReqDuration, 5)
  a.count(METRICS.httpReqs, 300)
  b.count(METRICS.httpReqs, 200)
  for (let i = 0; i < 100; i++) a.rate(METRICS.httpReqFailed, i < 2) // 2% failed
  a.rate(METRICS.checks, true)
  b.rate(METRICS.checks, false)
  a.count(taggedKey(METRICS.wsCloses, 'code', '1006'), 3)
  a.gauge(METRICS.usersActive, 40)
  b.gauge(METRICS.usersActive, 60)
  const agg = new MetricsAggregator(performance.now())
  agg.add(a.flush(), 'a', performance.now())
  agg.add(b.flush(), 'b', performance.now())
  return agg
}

test('MetricsAggregator.percentile reads any percentile of the run total', t => {
  const agg = runTotals()
  const p999 = agg.percentile(GET_ITEM, 99.9)
  const p50 = agg.percentile(GET_ITEM, 50)
  t.true(p999 !== undefined && Math.abs(p999 - 999) <= 1, String(p999))
  t.is(p50, agg.trend(GET_ITEM)?.med)
  t.is(agg.percentile('http.req.duration{name:nope}', 95), undefined)
})

test('evaluation against real metric totals', t => {
  const agg = runTotals()
  const thresholds = compileThresholds({
    'http.req.duration{name:get item}': ['p(99.9)<1000', 'p(99.9)<990', 'p(12.5)<=126', 'avg>=499', 'max>=1000', 'min<1'],
    'http.reqs': ['count==500', 'rate>=50', 'rate>50'],
    'http.req.failed': ['rate<0.05', 'rate<0.01'],
    checks: 'rate==0.5',
    'ws.closes{code:1006}': 'count<3',
    'users.active': ['value==100', 'max>100']
  })
  const results = evaluateThresholds(thresholds, thresholdInputFrom(agg, 10))
  const byExpr = (metric: string, expression: string) => results.find(r => r.metric === metric && r.expression === expression)
  const p999 = byExpr(GET_ITEM, 'p(99.9)<1000')
  t.true(p999?.passed)
  t.true(p999 !== undefined && p999.value !== null && p999.value >= 998 && p999.value < 1000, String(p999?.value))
  t.like(byExpr(GET_ITEM, 'p(99.9)<990'), { passed: false })
  const p125 = byExpr(GET_ITEM, 'p(12.5)<=126') // HDR: 3 significant digits, the top of 125 ms's bucket
  t.true(p125?.passed)
  t.true(p125 !== undefined && p125.value !== null && p125.value >= 125 && p125.value <= 125.125, String(p125?.value))
  t.like(byExpr(GET_ITEM, 'avg>=499'), { passed: true, abortOnFail: false })
  t.like(byExpr(GET_ITEM, 'max>=1000'), { passed: true, value: 1000.447 }) // top of 1000 ms's HDR bucket
  t.like(byExpr(GET_ITEM, 'min<1'), { passed: false, value: 1 })
  t.like(byExpr('http.reqs', 'count==500'), { passed: true, value: 500 })
  t.like(byExpr('http.reqs', 'rate>=50'), { passed: true, value: 50 }) // 500 over 10 s of load
  t.like(byExpr('http.reqs', 'rate>50'), { passed: false, value: 50 })
  t.like(byExpr('http.req.failed', 'rate<0.05'), { passed: true, value: 0.02 }) // a "pass" is a failed request
  t.like(byExpr('http.req.failed', 'rate<0.01'), { passed: false, value: 0.02 })
  t.like(byExpr('checks', 'rate==0.5'), { passed: true, value: 0.5 })
  t.like(byExpr('ws.closes{code:1006}', 'count<3'), { passed: false, value: 3 })
  t.like(byExpr('users.active', 'value==100'), { passed: true, value: 100 })
  t.like(byExpr('users.active', 'max>100'), { passed: false, value: 100 })
  t.is(results.length, thresholds.length)
  t.deepEqual(Object.keys(results[0]!).sort(), ['abortOnFail', 'expression', 'metric', 'passed', 'value'])
})

test('missing data: absent counter is 0, absent rate is 0, absent trend or gauge is null and fails', t => {
  const agg = runTotals()
  const results = evaluateThresholds(compileThresholds({
    'isolation.violations': ['count==0', 'rate<1'],
    'ws.closes{code:1011}': 'count==0',
    'checks{check:never ran}': 'rate<0.1',
    'http.req.duration{name:get itme}': 'p(95)<50', // misspelled request name
    'ws.event.latency': 'max<1000000',
    'target.heap.used': 'value<5e9'
  }), thresholdInputFrom(agg, 10))
  t.deepEqual(results.map(r => [r.metric, r.value, r.passed]), [
    ['isolation.violations', 0, true],
    ['isolation.violations', 0, true],
    ['ws.closes{code:1011}', 0, true],
    ['checks{check:never ran}', 0, true],
    ['http.req.duration{name:get itme}', null, false],
    ['ws.event.latency', null, false],
    ['target.heap.used', null, false]
  ])
})

test('ThresholdWatch aborts on the first failing abortOnFail threshold once its delay has passed', t => {
  const agg = runTotals()
  const input = thresholdInputFrom(agg, 10)
  const thresholds = compileThresholds({
    'http.req.duration{name:get item}': [
      'max<10', // fails, but does not abort
      { threshold: 'p(95)<100', abortOnFail: true, delayAbortEval: '5s' }, // fails after 5 s
      { threshold: 'avg<1000', abortOnFail: true } // passes
    ],
    'ws.event.latency': [{ threshold: 'max<1', abortOnFail: true }], // no data yet: never aborts
    'http.req.failed': [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: 8000 }] // fails after 8 s
  })
  const watch = new ThresholdWatch(thresholds)
  t.true(watch.active)
  t.is(watch.check(input, 0), undefined)
  t.is(watch.check(input, 4999), undefined)
  t.is(watch.tripped, undefined)
  const hit = watch.check(input, 5000)
  t.like(hit, { metric: GET_ITEM, expression: 'p(95)<100', passed: false, abortOnFail: true })
  t.is(watch.check(input, 9000), hit, 'latched')
  t.is(watch.tripped, hit)

  const later = new ThresholdWatch(thresholds.filter(x => x.metric !== 'http.req.duration'))
  t.is(later.check(input, 7999), undefined)
  t.like(later.check(input, 8000), { metric: 'http.req.failed', value: 0.02 })
  t.false(new ThresholdWatch(compileThresholds({ checks: 'rate>0' })).active)
})

test('ThresholdWatch: a counter never counted and a gauge never set are no data, not failures; judged once they have samples', t => {
  const thresholds = compileThresholds({
    iterations: [{ threshold: 'count>5', abortOnFail: true }], // reads 0 with no samples
    'users.active': [{ threshold: 'value>0', abortOnFail: true }] // reads 0 (or nothing) with no samples
  })
  const watch = new ThresholdWatch(thresholds)
  const empty = new MetricsAggregator(performance.now())
  for (const at of [0, 1000, 60_000]) t.is(watch.check(thresholdInputFrom(empty, at / 1000), at), undefined)
  t.is(watch.tripped, undefined)
  // the end of the run still judges them: no data fails, as documented
  t.true(evaluateThresholds(thresholds, thresholdInputFrom(empty, 60)).every(r => !r.passed))

  // with samples, each is judged: 3 iterations fail count>5; a gauge read 0 fails value>0
  const counted = new MetricsAggregator(performance.now())
  const r = new MetricsRecorder()
  r.count(METRICS.iterations, 3)
  counted.add(r.flush(), 'a', performance.now())
  t.like(new ThresholdWatch(thresholds).check(thresholdInputFrom(counted, 2), 2000), { metric: 'iterations', value: 3, passed: false })
  const gauged = new MetricsAggregator(performance.now())
  const g = new MetricsRecorder()
  g.gauge(METRICS.usersActive, 0)
  gauged.add(g.flush(), 'a', performance.now())
  t.like(new ThresholdWatch(thresholds).check(thresholdInputFrom(gauged, 2), 2000), { metric: 'users.active', value: 0, passed: false })
})

test('formatThresholdLines aligns one line per threshold', t => {
  const agg = runTotals()
  const results = evaluateThresholds(compileThresholds({
    'http.req.duration{name:get item}': 'p(12.5)<=126',
    'http.reqs': 'count>1000000',
    'target.heap.used': 'value<5e9'
  }), thresholdInputFrom(agg, 10))
  t.deepEqual(formatThresholdLines(results), [
    '  ✓ http.req.duration{name:get item}  p(12.5)<=126   value 125.055',
    '  ✗ http.reqs                         count>1000000  value 500',
    '  ✗ target.heap.used                  value<5e9      no data'
  ])
  t.deepEqual(formatThresholdLines([]), [])
})
