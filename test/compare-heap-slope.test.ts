// compare --leaks: the heap-slope change is judged by a t-interval on the per-round differences.
// Its coverage at the default 3 rounds is proven by seeded simulation through compareRounds (a
// paired-mean bootstrap covered only 76.5%); clear changes keep their verdicts; one round is too few.
import test from 'ava'
import { compareRounds, formatComparisonMarkdown, type ComparisonResult, type MetricComparison } from '../engine/compare/index.js'
import type { ComparableRun, ComparisonRound } from '../engine/compare/compare-rounds.js'
import { mulberry32 } from '../engine/compare/prng.js'

function gaussian (rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

/** A run reduced to what the heap-slope row reads: no load windows, so the window metrics stay out of the way. */
function run (bytesPerOp: number): ComparableRun {
  return { status: 'passed', timeSeries: [], loadWindow: { startS: 0, endS: 0 }, isolation: { violations: 0, byKind: {} }, leaks: { bytesPerOp } }
}

function rounds (pairs: ReadonlyArray<readonly [number, number]>): ComparisonRound[] {
  return pairs.map(([b, c]) => ({ baseline: run(b), candidate: run(c) }))
}

function heapSlope (r: ComparisonResult): MetricComparison {
  const m = r.metrics.find(x => x.metric === 'heapSlope')
  if (m === undefined) throw new Error('no heapSlope row')
  return m
}

/**
 * `sims` comparisons of `n` rounds: true slopes 150 B/op (baseline) and 150 + 60 (candidate); each
 * round's machine state moves both runs by the same N(0, 40) and each run adds its own N(0, 25)
 * (normal paired noise). Returns the share of intervals that contain the true difference, 60.
 */
function coverage (n: number, sims: number, seed: number): number {
  const rand = mulberry32(seed)
  let covered = 0
  for (let s = 0; s < sims; s++) {
    const pairs = Array.from({ length: n }, () => {
      const shared = 40 * gaussian(rand)
      return [150 + shared + 25 * gaussian(rand), 210 + shared + 25 * gaussian(rand)] as const
    })
    const ci = heapSlope(compareRounds(rounds(pairs))).diffCI!
    if (ci[0] <= 60 && 60 <= ci[1]) covered++
  }
  return covered / sims
}

test('the heap-slope interval covers the true difference >= 93% of the time at 3 rounds (1000 seeded simulations), and at 5 and 10', t => {
  const measured: string[] = []
  for (const n of [3, 5, 10]) {
    const c = coverage(n, 1000, 0x15 + n)
    measured.push(`${n} rounds: ${(c * 100).toFixed(1)}%`)
    t.true(c >= 0.93, `${n} rounds: coverage ${c}`)
    // a 95% interval, calibrated rather than merely wide (over 1000 draws one standard error is 0.7%)
    t.true(c <= 0.975, `${n} rounds: coverage ${c}`)
  }
  t.log(`coverage of the 95% interval: ${measured.join(', ')}`)
})

test('the interval is the t-interval on the paired differences, named in compare.json and compare.md', t => {
  // differences 10, 20, 30: mean 20, sd 10, t(0.975, 2 df) = 4.302652729911275, half-width 24.8413771184...
  const r = compareRounds(rounds([[100, 110], [200, 220], [150, 180]]))
  const m = heapSlope(r)
  t.is(m.diff, 20)
  t.true(Math.abs(m.diffCI![0] - (20 - 24.841377118437524)) < 1e-6 && Math.abs(m.diffCI![1] - (20 + 24.841377118437524)) < 1e-6, JSON.stringify(m.diffCI))
  t.is(m.baseline, 150)
  t.is(m.candidate, 170)
  t.is(m.rounds, 3)
  t.is(m.note, 't-interval on 3 paired differences (2 df)')
  t.is(r.method.heapSlopeInterval, 'paired-t')
  t.is(r.method.bootstrap, 'hierarchical-paired')
  t.regex(formatComparisonMarkdown(r), /heap slope interval: Student's t on the per-round differences \(paired-t, rounds - 1 degrees of freedom; one round is too few\)/)
  // without --leaks there is no heap row and no method for it
  const noLeaks: ComparableRun = { status: 'passed', timeSeries: [], loadWindow: { startS: 0, endS: 0 }, isolation: { violations: 0, byKind: {} } }
  const plain = compareRounds([{ baseline: noLeaks, candidate: noLeaks }])
  t.is(plain.method.heapSlopeInterval, undefined)
  // a round whose slope is not finite is left out
  const partial = heapSlope(compareRounds(rounds([[100, 110], [Number.NaN, 220], [150, 180], [200, 220]])))
  t.is(partial.rounds, 3)
})

test('clear changes keep their verdicts at 3 rounds: a leak added is regressed, the same slope is within', t => {
  const rand = mulberry32(7)
  for (let s = 0; s < 20; s++) {
    const noisy = (v: number): number => v + 20 * gaussian(rand)
    const leak = heapSlope(compareRounds(rounds([[noisy(10), noisy(300)], [noisy(10), noisy(300)], [noisy(10), noisy(300)]])))
    t.is(leak.verdict, 'regressed', JSON.stringify(leak))
    t.true(leak.significant)
    t.is(leak.direction, 'worse')
    const same = heapSlope(compareRounds(rounds([[noisy(150), noisy(150)], [noisy(150), noisy(150)], [noisy(150), noisy(150)]])))
    t.not(same.verdict, 'regressed', JSON.stringify(same))
  }
  // equal slopes with little noise: within the +32 B/op budget
  const flat = heapSlope(compareRounds(rounds([[150, 151], [149, 150], [152, 151]])))
  t.is(flat.verdict, 'within', JSON.stringify(flat))
})

test('one round is too few rounds: inconclusive, with the change shown but no interval', t => {
  const r = compareRounds(rounds([[10, 300]]))
  const m = heapSlope(r)
  t.is(m.verdict, 'inconclusive')
  t.is(m.diffCI, null)
  t.is(m.relativeCI, null)
  t.is(m.diff, 290)
  t.is(m.direction, 'worse')
  t.is(m.rounds, 1)
  t.false(m.significant)
  t.regex(m.note ?? '', /^too few rounds: 1 round with a heap slope on both sides gives no spread between rounds for a t-interval; run 2 or more/)
  t.true(r.reasons.some(x => x.startsWith('heapSlope inconclusive: too few rounds')), r.reasons.join('\n'))
  // two rounds are enough for an interval (1 df: wide, but honest)
  const two = heapSlope(compareRounds(rounds([[10, 300], [12, 310]])))
  t.is(two.verdict, 'regressed', JSON.stringify(two))
})
