// The pass/fail decision as a pure function, and the abort-on-fail watch with metrics that have no
// samples yet (each kind), fed from a real MetricsAggregator.
import test from 'ava'
import { decideOutcome, type OutcomeInput } from '../engine/result/outcome.js'
import type { ThresholdResult } from '../engine/result/index.js'
import { MetricsAggregator, MetricsRecorder, METRICS, taggedKey } from '../engine/metrics/index.js'
import { compileThresholds, evaluateThresholds, ThresholdWatch, withDefaultBudget } from '../engine/thresholds/index.js'
import { thresholdInputFrom } from '../engine/thresholds/evaluate.js'

const clean: OutcomeInput = {
  interrupted: false,
  engineFailures: [],
  thresholds: [],
  violations: 0,
  users: { planned: 10, lost: 0 },
  errors: 0,
  iterations: 20,
  checksFailed: 0
}

const budget = (value: number, passed: boolean): ThresholdResult => ({ metric: 'http.req.failed', expression: 'rate<0.05', value, passed, abortOnFail: false, default: true })

test('a run that measured iterations and broke nothing passes', t => {
  t.deepEqual(decideOutcome(clean), { status: 'passed', failures: [] })
  t.deepEqual(decideOutcome({ ...clean, thresholds: [budget(0.01, true)] }), { status: 'passed', failures: [] })
})

test('a run in which no iteration completed fails: nothing was measured', t => {
  t.deepEqual(decideOutcome({ ...clean, iterations: 0 }), { status: 'failed', failures: ['nothing was measured: no iteration completed without an error'] })
  // a breakpoint run too: its thresholds never fail it, but an empty run is no result
  const breakpoint = { broke: false, atS: null, targetRate: null, achievedRate: null, activeUsers: null, reason: null }
  t.is(decideOutcome({ ...clean, iterations: 0, breakpoint }).status, 'failed')
  // an interrupted run says it was interrupted, not that it measured nothing
  t.deepEqual(decideOutcome({ ...clean, iterations: 0, interrupted: true }), { status: 'interrupted', failures: [] })
})

test('the default failure budget fails with its own reason; a user threshold reads as before', t => {
  t.deepEqual(decideOutcome({ ...clean, thresholds: [budget(0.2, false)] }).failures,
    ['failed requests above the default budget: http.req.failed rate<0.05 failed (0.2); a threshold of your own on http.req.failed replaces it'])
  const own: ThresholdResult = { metric: 'http.req.failed', expression: 'rate<0.01', value: 0.2, passed: false, abortOnFail: false }
  t.deepEqual(decideOutcome({ ...clean, thresholds: [own] }).failures, ['threshold http.req.failed: rate<0.01 failed (0.2)'])
  // a breakpoint run's thresholds mark where it broke
  const breakpoint = { broke: true, atS: 3, targetRate: 50, achievedRate: 40, activeUsers: 10, reason: 'x' }
  t.is(decideOutcome({ ...clean, thresholds: [own, budget(0.2, false)], breakpoint }).status, 'passed')
})

test('reasons come in a fixed order', t => {
  const r = decideOutcome({ ...clean, engineFailures: ['hard deadline'], iterations: 0, thresholds: [budget(1, false)], violations: 2, users: { planned: 10, lost: 1 }, errors: 3, checksFailed: 4 })
  t.deepEqual(r.failures.map(f => f.split(/[ :]/)[0]), ['hard', 'nothing', 'failed', '2', '1', '3', '4'])
})

test('withDefaultBudget adds http.req.failed rate<0.05 unless a threshold is on http.req.failed, tagged or not', t => {
  const added = withDefaultBudget(compileThresholds({ checks: 'rate>0.9' }))
  t.deepEqual(added.map(x => [x.key, x.expression, x.default]), [['checks', 'rate>0.9', undefined], ['http.req.failed', 'rate<0.05', true]])
  t.deepEqual(withDefaultBudget(compileThresholds({ 'http.req.failed': 'rate<0.5' })).map(x => x.expression), ['rate<0.5'])
  t.deepEqual(withDefaultBudget(compileThresholds({ 'http.req.failed{name:login}': 'rate<0.5' })).map(x => x.key), ['http.req.failed{name:login}'])
})

test('abortOnFail skips every metric without samples, whatever its kind; the end of the run still judges them', t => {
  const thresholds = compileThresholds({
    'checks{check:later}': [{ threshold: 'rate>0.9', abortOnFail: true }],
    'errors': [{ threshold: 'count>0', abortOnFail: true }],
    'http.req.duration{name:later}': [{ threshold: 'p(95)<100', abortOnFail: true }],
    'users.active': [{ threshold: 'value>0', abortOnFail: true }]
  })
  const agg = new MetricsAggregator(performance.now())
  const rec = new MetricsRecorder()
  rec.rate(METRICS.checks, true) // another check has data: this one has none
  agg.add(rec.flush(), 'a', performance.now())
  const watch = new ThresholdWatch(thresholds)
  t.is(watch.check(thresholdInputFrom(agg, 1), 1000), undefined)
  // at the end: the rate reads 0 and the counter 0 (both fail), the trend and gauge have no data (fail)
  t.deepEqual(evaluateThresholds(thresholds, thresholdInputFrom(agg, 1)).map(r => [r.value, r.passed]), [[0, false], [0, false], [null, false], [null, false]])
  // once the check has samples and fails, the watch aborts on it
  rec.rate(taggedKey(METRICS.checks, 'check', 'later'), false)
  agg.add(rec.flush(), 'a', performance.now())
  t.like(watch.check(thresholdInputFrom(agg, 2), 2000), { metric: 'checks{check:later}', value: 0, passed: false })
})
