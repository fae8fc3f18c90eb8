// `compare` end to end: real fixtures in their own processes, real runs in interleaved rounds.
// A planted 20% latency regression is flagged; the same build against itself is not, trial after
// trial; isolation violations are side by side and fail a candidate that has them.
import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compare, type ComparisonResult } from '../engine/index.js'
import { cli, tempDir, writeScenario } from './support.js'

const CHILD = new URL('../fixtures/child.js', import.meta.url).pathname

/** one authenticated GET per iteration: the fixture's latency fault applies to it */
function meScenario (t: { teardown: (fn: () => void) => void }): string {
  return writeScenario(tempDir(t), 'me.mjs', `export default defineScenario({
    name: 'me',
    async setup (user) { await user.http.post('/login', { json: { name: user.name } }) },
    async iteration (user) { const r = await user.http.get('/me'); user.check(r.status === 200, 'me') }
  })`)
}

const row = (r: ComparisonResult, metric: string) => r.metrics.find(m => m.metric === metric)

// The planted delay must dominate what a busy machine adds to every request: 10 ms -> 12 ms
// measured 14 ms -> 16 ms (+14%) under load, and a run's scheduling lag moved it by 25%; at
// 500 ms -> 600 ms the change stays near +20% and one run's level within about 2%.
// test/compare-stats.test.ts proves the power at this size: 5 rounds of 3 s runs.
test('a planted 20% latency regression is flagged, with an interval that excludes the budget', async t => {
  const r = await compare({
    baseline: 'fixture:context?latencyMs=500',
    candidate: 'fixture:context?latencyMs=600',
    scenario: meScenario(t),
    rounds: 5,
    run: { users: 20, duration: '3s', workers: 1 },
    out: null
  })
  t.is(r.verdict, 'fail', r.reasons.join('; '))
  const p50 = row(r, 'p50')!
  t.is(p50.verdict, 'regressed')
  t.true(p50.relative! > 0.12 && p50.relative! < 0.3, `p50 ${p50.relative}`)
  t.true(p50.relativeCI![0] > 0.1, `CI ${p50.relativeCI}`)
  t.is(r.rounds.length, 5)
  t.is(r.isolation.baseline.violations + r.isolation.candidate.violations, 0)
})

test('the same build against itself is not flagged, trial after trial', async t => {
  const scenario = meScenario(t)
  for (let trial = 0; trial < 2; trial++) {
    const r = await compare({
      baseline: 'fixture:context?latencyMs=500',
      candidate: 'fixture:context?latencyMs=500',
      scenario,
      rounds: 2,
      run: { users: 20, duration: '3s', workers: 1 },
      seed: trial + 1,
      out: null
    })
    t.not(r.verdict, 'fail', `trial ${trial}: ${r.reasons.join('; ')}`)
    t.deepEqual(r.metrics.filter(m => m.verdict === 'regressed').map(m => m.metric), [], `trial ${trial}`)
  }
})

test('CLI: isolation violations sit side by side and fail a candidate that has them; files are written', async t => {
  const out = tempDir(t)
  const res = await cli(['compare', 'isolation', '--baseline', 'fixture:context', '--candidate', 'fixture:legacy', '--rounds', '1', '-u', '100', '-d', '2s', '-w', '1', '-o', out], { timeoutMs: 120_000 })
  t.is(res.code, 1, res.stderr)
  t.regex(res.stderr, /round 1\/1 baseline +fixture:context/)
  t.regex(res.stdout, /isolation/i)
  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as ComparisonResult & { runReports: string[] }
  t.is(json.isolation.baseline.violations, 0)
  t.true(json.isolation.candidate.violations > 0)
  t.true(json.isolation.regressed)
  t.is(json.verdict, 'fail')
  t.true(existsSync(join(out, 'compare.md')))
  t.is(json.runReports.length, 2)
  t.true(json.runReports.every(p => existsSync(p)))
})

test('CLI: two report.json files compare without running; a command target serves on $PORT', async t => {
  const dir = tempDir(t)
  const scenario = meScenario(t)
  // baseline: a server started by a command; candidate: the fixture
  const live = await cli(['compare', scenario, '--baseline', `cmd:${process.execPath} ${CHILD} --port $PORT --latency-ms 2`, '--candidate', 'fixture:context?latencyMs=2', '--rounds', '1', '-u', '10', '-d', '4s', '-w', '1', '-q', '-o', join(dir, 'live')], { timeoutMs: 120_000 })
  t.true(live.code === 0 || live.code === 1, live.stderr)
  const first = JSON.parse(readFileSync(join(dir, 'live', 'compare.json'), 'utf8')) as ComparisonResult & { runReports: string[] }
  t.is(first.rounds.length, 1)
  t.true(first.windows.baseline > 0 && first.windows.candidate > 0, JSON.stringify(first.windows))

  const fromReports = await cli(['compare', '--baseline', first.runReports[0]!, '--candidate', first.runReports[1]!, '-q', '-o', join(dir, 'reports')])
  t.true(fromReports.code === 0 || fromReports.code === 1, fromReports.stderr)
  const second = JSON.parse(readFileSync(join(dir, 'reports', 'compare.json'), 'utf8')) as ComparisonResult
  t.is(second.rounds.length, 1)
  t.deepEqual(second.metrics.map(m => m.metric).slice(0, 3), ['p50', 'p95', 'p99'])
})

test('CLI: bad targets and budgets are one coded line and exit 2', async t => {
  const target = await cli(['compare', '--baseline', 'fixture:modern', '--candidate', 'fixture:context'])
  t.is(target.code, 2)
  t.regex(target.stderr, /^crosstalk: CT_ERR_CONFIG: 'fixture:modern': the fixture's mode must be legacy or context/)
  const budget = await cli(['compare', '--baseline', 'fixture:legacy', '--candidate', 'fixture:context', '--budget', 'p95=lots'])
  t.is(budget.code, 2)
  t.regex(budget.stderr, /^crosstalk: CT_ERR_BUDGET_SYNTAX: .*p95=lots/)
  const mixed = await cli(['compare', '--baseline', 'fixture:legacy', '--candidate', 'http://example.com/'])
  t.is(mixed.code, 2)
  t.regex(mixed.stderr, /CT_ERR_TARGET_NOT_LOOPBACK/)
  t.is(budget.stderr.trim().split('\n').length, 1)
})
