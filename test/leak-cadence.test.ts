// The reading cadence: a time-bound load is read every planned duration / 30, decided before the
// first operation; a load bound by iterations only is read every planned operations / 30, from
// the operations per iteration of its first second; --leak-every is taken as given.
import test from 'ava'
import { MIN_EVERY_OPS, ReadingCadence, TARGET_READINGS } from '../engine/leaks/cadence.js'

test('a time-bound load: a reading every duration / 30, whatever the first second\'s rate', t => {
  const c = new ReadingCadence(undefined, { durationMs: 20_000, iterations: null })
  // decided before any operation: at 1000 users the first second runs at a fraction of the steady rate
  t.deepEqual(c.decide(0, 0, 0), { everyOps: MIN_EVERY_OPS, everyMs: 667 })
  t.deepEqual(c.decide(1500, 1300, 600), { everyOps: MIN_EVERY_OPS, everyMs: 667 })
  t.is(c.rule, 'from the planned duration: 20 s / 30 readings, every 0.67 s (and at least 200 ops apart)')
  t.is(new ReadingCadence(undefined, { durationMs: 40_000, iterations: null }).cadence?.everyMs, Math.round(40_000 / TARGET_READINGS))
  // never more often than every 100 ms
  t.is(new ReadingCadence(undefined, { durationMs: 1000, iterations: null }).cadence?.everyMs, 100)
})

test('a duration and iterations: the duration\'s cadence until the iterations\' pace shows which ends the load first', t => {
  // 60 s planned, but 3000 iterations at 300 a second end it after ~10 s
  const fast = new ReadingCadence(undefined, { durationMs: 60_000, iterations: 3000 })
  t.deepEqual(fast.cadence, { everyOps: MIN_EVERY_OPS, everyMs: 2000 }, 'provisional: the duration\'s')
  t.deepEqual(fast.decide(0, 10, 0), { everyOps: MIN_EVERY_OPS, everyMs: 2000 })
  t.deepEqual(fast.decide(1000, 900, 300), { everyOps: MIN_EVERY_OPS, everyMs: 333 })
  t.is(fast.rule, 'from the planned iterations, which end before the planned duration: ~10 s / 30 readings, every 0.33 s (and at least 200 ops apart)')
  // iterations that outlast the duration leave its cadence as it was
  const slow = new ReadingCadence(undefined, { durationMs: 20_000, iterations: 100_000 })
  t.deepEqual(slow.decide(0, 10, 0), { everyOps: MIN_EVERY_OPS, everyMs: 667 })
  t.deepEqual(slow.decide(1000, 900, 300), { everyOps: MIN_EVERY_OPS, everyMs: 667 })
  t.regex(slow.rule, /^from the planned duration: 20 s/)
})

test('a load bound by iterations: every planned ops / 30, from the first second of operations', t => {
  const c = new ReadingCadence(undefined, { durationMs: null, iterations: 20_000 })
  t.is(c.cadence, undefined)
  t.is(c.decide(100, 0, 0), undefined, 'no operation yet')
  t.is(c.decide(200, 50, 20), undefined, 'the first operations start the clock')
  t.is(c.decide(900, 400, 190), undefined, 'under a second of operations')
  // 3 ops per iteration x 20,000 iterations / 30
  t.deepEqual(c.decide(1300, 600, 200), { everyOps: 2000, everyMs: 100 })
  t.regex(c.rule, /^from the planned iterations: 500 ops\/s over 1\.1 s, ~60000 planned ops \/ 30 readings \(at least 200\)$/)
  // long iterations: none ended in the first second, so there is nothing to scale by yet
  const long = new ReadingCadence(undefined, { durationMs: null, iterations: 50 })
  long.decide(0, 10, 0)
  t.is(long.decide(3000, 400, 0), undefined)
  t.deepEqual(long.decide(4000, 600, 5), { everyOps: MIN_EVERY_OPS, everyMs: 100 })
  t.regex(long.rule, /^from the planned iterations: /)
  // a small plan: never closer than MIN_EVERY_OPS
  const small = new ReadingCadence(undefined, { durationMs: null, iterations: 100 })
  small.decide(0, 10, 5)
  t.deepEqual(small.decide(1000, 200, 100), { everyOps: MIN_EVERY_OPS, everyMs: 100 })
})

test('a load that ends before its rate is measured: what was done is the plan', t => {
  const c = new ReadingCadence(undefined, { durationMs: null, iterations: 900 })
  c.decide(0, 30, 10)
  t.deepEqual(c.decide(400, 9000, 900, true), { everyOps: 300, everyMs: 100 })
  t.is(c.rule, 'from what the load did: ~9000 ops / 30 readings (at least 200)')
})

test('neither a duration nor iterations (only maxDuration): every 1000 ops, and the rule says why', t => {
  const c = new ReadingCadence(undefined, { durationMs: null, iterations: null })
  c.decide(0, 10, 1)
  t.deepEqual(c.decide(1200, 5000, 900), { everyOps: 1000, everyMs: 100 })
  t.is(c.rule, 'every 1000 ops (no planned duration or iterations to scale by)')
})

test('--leak-every is an operation count, taken as given', t => {
  const c = new ReadingCadence(750, { durationMs: 30_000, iterations: null })
  t.deepEqual(c.decide(0, 0, 0), { everyOps: 750, everyMs: 100 })
  t.is(c.rule, 'every 750 ops (--leak-every)')
})
