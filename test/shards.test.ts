// Shards of one run (issue 18): 3 separate `crosstalk run --shard i/3` processes against one
// server written here, released together by a coordinator, merged by `crosstalk merge`. The merged
// report counts exactly what the server answered, has all 1200 users, and its percentiles are
// those of one HDR histogram fed every sample; a canary written by a shard-0 user and served to
// shard-2 users is a violation in the merged report, and the clean server gives none.
import test from 'ava'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { ArrivalSchedule, shardSlice, planExecution } from '../engine/load/index.js'
import { planCohortsFor } from '../engine/pool/index.js'
import { run, type RunResult } from '../engine/index.js'
import { Coordinator, mergeShards } from '../engine/distributed/index.js'
import { createHistogram, decodeHistogram, encodeHistogram, summarizeHistogram } from '../engine/metrics/histogram.js'
import { cli, tempDir, writeScenario } from './support.js'

const SECRET = 'a3f1c9e07b5d42e8a3f1c9e07b5d42e8a3f1c9e07b5d42e8'
process.env.CROSSTALK_RUN_SECRET = SECRET
const USERS = 1200
const SHARDS = 3
const ITERATIONS = 3

/** The custom trend's sample of user `id` in its iteration `k`: known here, recorded there. */
const sample = (id: number, k: number): number => ((id * 37 + k * 11) % 5000) + 1

interface BoardServer { url: string, requests: () => number, close: () => Promise<void> }

/**
 * Writers POST their note to /board, readers GET it. The clean server keeps one board per user
 * (x-user); with `shared` it keeps one for everybody: the bug a reader on another shard sees.
 */
async function startBoard (shared: boolean): Promise<BoardServer> {
  let requests = 0
  const boards = new Map<string, string>()
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      requests++
      const key = shared ? 'all' : String(req.headers['x-user'])
      if (req.method === 'POST') boards.set(key, body)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ note: req.method === 'GET' ? boards.get(key) ?? null : 'saved' }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

/** Users of shard 0 write a canary each iteration, users of shard 2 read the board, shard 1's only ping; every user records its known samples. */
function boardScenario (dir: string): string {
  return writeScenario(dir, 'board.mjs', `export default defineScenario({
    name: 'board',
    metrics: { work: { kind: 'trend', unit: 'items' } },
    async iteration (user) {
      const h = { 'x-user': String(user.id) }
      if (user.id < ${USERS / SHARDS}) await user.http.post('/board', { headers: h, body: user.canary('note') })
      else if (user.id >= ${2 * USERS / SHARDS}) await user.http.get('/board', { headers: h })
      else await user.http.get('/ping', { headers: h })
      user.state.k = (user.state.k ?? 0)
      user.metrics.trend('work', { unit: 'items' }).add(((user.id * 37 + user.state.k * 11) % 5000) + 1)
      user.state.k++
      await new Promise(r => setTimeout(r, 200))
    }
  })`)
}

/** Runs the 3 shards as separate processes, started together, and merges them. */
async function shardedRun (t: { teardown: (fn: () => void | Promise<void>) => void }, url: string, runId: string): Promise<{ shards: RunResult[], merged: RunResult, mergeCode: number | null, dir: string, mergeOut: string }> {
  const dir = tempDir(t)
  const scenario = boardScenario(dir)
  // the coordinated start: every shard set up, then all released together
  const coordinator = new Coordinator({ shards: SHARDS, runId, secret: SECRET, port: 0, timeoutMs: 90_000 })
  t.teardown(() => coordinator.close())
  await coordinator.listen()
  const runs = await Promise.all(Array.from({ length: SHARDS }, async (_v, i) => {
    const out = join(dir, `shard-${i}`)
    const r = await cli(['run', scenario, '--target', url, '--users', String(USERS), '--iterations', String(ITERATIONS), '--shard', `${i}/${SHARDS}`,
      '--run-id', runId, '--coordinator', coordinator.url, '--workers', '1', '--out', out, '--quiet', '--no-html', '--max-duration', '60s'], { timeoutMs: 90_000 })
    return { r, out }
  }))
  const shards = runs.map(({ r, out }) => {
    if (r.code === null || r.code > 1) throw new Error(`shard failed (${r.code}): ${r.stderr}`)
    return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  })
  const mergeOut = join(dir, 'merged')
  const m = await cli(['merge', ...runs.map(x => join(x.out, 'report.json')), '--out', mergeOut, '--quiet'])
  if (m.code === null || m.code > 1) throw new Error(`merge failed (${m.code}): ${m.stderr}`)
  return { shards, merged: JSON.parse(readFileSync(join(mergeOut, 'report.json'), 'utf8')) as RunResult, mergeCode: m.code, dir, mergeOut }
}

test('a shard slice is exact: disjoint slices covering every user, for any split', t => {
  for (const total of [0, 1, 7, 100, 1000, 1201, 99_999]) {
    for (const count of [1, 2, 3, 7, 16]) {
      let next = 0
      for (let index = 0; index < count; index++) {
        const s = shardSlice(total, { index, count })
        t.is(s.from, next)
        t.true(s.to >= s.from)
        next = s.to
      }
      t.is(next, total)
    }
  }
})

test('open model: shards split pre-allocated users exactly and their arrivals add up to one process\'s', t => {
  const plan = planExecution({ executor: 'constant-arrival-rate', rate: 300, users: 37, maxUsers: 1000, peakUsers: null, startUsers: null, startRate: null, stages: null, durationMs: 2000, iterations: null }).plan!
  const arrivals = (cohorts: ReturnType<typeof planCohortsFor>): number[] => cohorts.flatMap(c => {
    const s = new ArrivalSchedule(plan.profile, c.rateShare, c.phase)
    const out: number[] = []
    for (let a = s.next(); a !== null; a = s.next()) out.push(a)
    return out
  }).sort((a, b) => a - b)
  const whole = planCohortsFor(plan, 2)
  const shards = Array.from({ length: 3 }, (_v, index) => planCohortsFor(plan, 2, undefined, { index, count: 3 }))
  t.is(shards.flat().reduce((n, c) => n + c.initialUsers, 0), 37)
  t.is(shards.flat().reduce((n, c) => n + c.size, 0), 1000)
  t.is(Math.round(shards.flat().reduce((n, c) => n + c.rateShare, 0) * 1e9), 1e9)
  // users are run-wide ids: every one of 0..999 in exactly one shard's cohorts
  const ids = shards.flat().flatMap(c => Array.from({ length: c.size }, (_v, i) => c.firstUser + i)).sort((a, b) => a - b)
  t.deepEqual(ids, Array.from({ length: 1000 }, (_v, i) => i))
  const one = arrivals(whole)
  const split = arrivals(shards.flat())
  t.is(one.length, 600)
  t.is(split.length, one.length)
  // interleaved: no two arrivals of the split run closer than the rate allows by much
  const gaps = split.slice(1).map((a, i) => a - split[i]!)
  t.true(Math.max(...gaps) < 3 * 1000 / 300, `largest gap ${Math.max(...gaps)} ms`)
})

test.serial('3 shard processes merge into one exact report: requests, users and percentiles of every sample; no violation on the clean server', async t => {
  const server = await startBoard(false)
  t.teardown(server.close)
  const { shards, merged, mergeCode, dir, mergeOut } = await shardedRun(t, server.url, 'merge-clean')
  t.deepEqual(shards.map(s => s.shard?.index), [0, 1, 2])
  t.deepEqual(shards.map(s => s.users.planned), [400, 400, 400])
  t.deepEqual(shards.map(s => s.shard!.users), [[{ from: 0, to: 400 }], [{ from: 400, to: 800 }], [{ from: 800, to: 1200 }]])
  // started together: each shard's load began at the coordinator's start time (to within a busy box's timers)
  const starts = shards.map(s => s.shard!.loadStartedAtEpochMs)
  t.true(Math.max(...starts) - Math.min(...starts) < 1500, `load starts ${starts.join(', ')}`)
  t.is(mergeCode, 0, merged.failures.join('; '))
  t.is(merged.status, 'passed')
  t.is(merged.users.planned, USERS)
  t.is(merged.users.completed, USERS)
  // every request the server answered, counted once
  t.is((merged.metrics['http.reqs'] as { count: number }).count, server.requests())
  t.is(server.requests(), USERS * ITERATIONS)
  t.is(merged.isolation.violations, 0)
  // one HDR histogram fed every sample the users recorded, shipped once as a worker ships it (the
  // encoding keeps counts, so its max is its bucket's highest equivalent value, as in any run)
  const h = createHistogram()
  for (let id = 0; id < USERS; id++) for (let k = 0; k < ITERATIONS; k++) h.recordValue(sample(id, k))
  t.deepEqual(merged.metrics.work, summarizeHistogram(decodeHistogram(encodeHistogram(h)), 1))
  // http.req.duration's count is the sum, its percentiles from the merged histograms
  const d = merged.metrics['http.req.duration'] as { count: number }
  t.is(d.count, USERS * ITERATIONS)
  t.is(merged.mergedFrom?.shards.length, 3)
  t.is(merged.shard, undefined)
  // the per-second series adds up to the totals
  t.is(merged.timeSeries.reduce((n, p) => n + (p.counters['http.reqs'] ?? 0), 0), USERS * ITERATIONS)
  t.true(readFileSync(join(mergeOut, 'report.html'), 'utf8').includes('<html'))

  // not one run's complete set of shards: one CT_ERR_MERGE line, exit 2
  const paths = [0, 1, 2].map(i => join(dir, `shard-${i}`, 'report.json'))
  const missing = await cli(['merge', paths[0]!, paths[2]!, '--out', join(dir, 'bad1'), '--quiet'])
  t.is(missing.code, 2)
  t.regex(missing.stderr, /^crosstalk: CT_ERR_MERGE: shard 1 of 3 missing\n$/)
  const twice = await cli(['merge', paths[0]!, paths[1]!, paths[1]!, paths[2]!, '--out', join(dir, 'bad2'), '--quiet'])
  t.is(twice.code, 2)
  t.regex(twice.stderr, /CT_ERR_MERGE: shard 1 is given twice/)
  const other = JSON.parse(readFileSync(paths[1]!, 'utf8')) as RunResult
  mkdirSync(join(dir, 'other'))
  writeFileSync(join(dir, 'other', 'report.json'), JSON.stringify({ ...other, runId: 'another-run' }))
  const foreign = await cli(['merge', paths[0]!, join(dir, 'other', 'report.json'), paths[2]!, '--out', join(dir, 'bad3'), '--quiet'])
  t.is(foreign.code, 2)
  t.regex(foreign.stderr, /CT_ERR_MERGE: .*is of run another-run, not merge-clean/)
})

test.serial('a canary written by shard-0 users and served to shard-2 users is a violation in the merged report', async t => {
  const server = await startBoard(true)
  t.teardown(server.close)
  const { shards, merged, mergeCode } = await shardedRun(t, server.url, 'merge-shared')
  // shard 2's own report already holds it: its readers got shard 0's canaries, verified with the shared secret
  t.true(shards[2]!.isolation.violations > 0)
  t.is(mergeCode, 1)
  t.is(merged.status, 'failed')
  t.is(merged.isolation.violations, shards.reduce((n, s) => n + s.isolation.violations, 0))
  const id = (name: string): number => Number(name.replace(/^user-/, ''))
  const crossing = merged.isolation.samples.filter(v => id(v.owner) < 400 && id(v.user) >= 800)
  t.true(crossing.length > 0, JSON.stringify(merged.isolation.samples.slice(0, 3)))
  t.true(merged.failures.some(f => /isolation violations/.test(f)))
  // the run secret is in no report
  for (const s of [...shards, merged]) t.false(JSON.stringify(s).includes(SECRET))
})

test('--shard without the run id and secret is refused before any load', async t => {
  const server = await startBoard(false)
  t.teardown(server.close)
  const dir = tempDir(t)
  const r = await cli(['run', boardScenario(dir), '--target', server.url, '--users', '10', '--shard', '0/2', '--quiet', '--out', join(dir, 'out')])
  t.is(r.code, 2)
  t.regex(r.stderr, /^crosstalk: CT_ERR_CONFIG: a shard \(--shard\) needs the run's id \(--run-id\)/)
  const bad = await cli(['run', boardScenario(dir), '--target', server.url, '--users', '10', '--shard', '2/2', '--run-id', 'x', '--quiet', '--out', join(dir, 'out')])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /shard index must be a whole number from 0 to count - 1/)
  t.is(server.requests(), 0)
})

test('a users file is sliced by run-wide user id: each shard logs in its own rows, every row once', async t => {
  const logins: Array<{ name: string }> = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      if (req.url === '/login') logins.push({ name: (JSON.parse(body) as { name: string }).name })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const dir = tempDir(t)
  const rows = Array.from({ length: 20 }, (_v, i) => `account-${i},pw-${i}`)
  writeFileSync(join(dir, 'users.csv'), ['name,password', ...rows].join('\n') + '\n')
  const scenario = writeScenario(dir, 'login.mjs', `export default defineScenario({
    name: 'login',
    async setup (user) { await user.http.post('/login', { json: { name: user.data.name, id: user.id } }) },
    async iteration (user) { await user.http.get('/ping') }
  })`)
  for (const index of [0, 1]) {
    const r = await cli(['run', scenario, '--target', url, '--users', '20', '--iterations', '1', '--users-file', join(dir, 'users.csv'), '--shard', `${index}/2`, '--run-id', 'rows', '--workers', '1', '--quiet', '--out', join(dir, `s${index}`)])
    t.is(r.code, 0, r.stderr)
  }
  t.deepEqual(logins.map(l => l.name).sort(), rows.map(r => r.split(',')[0]!).sort())
  const shard0 = JSON.parse(readFileSync(join(dir, 's0', 'report.json'), 'utf8')) as RunResult
  t.deepEqual(shard0.shard?.users, [{ from: 0, to: 10 }])
  // the first shard ran first here: its logins are rows 0-9, in some order
  t.deepEqual(logins.slice(0, 10).map(l => l.name).sort(), rows.slice(0, 10).map(r => r.split(',')[0]!).sort())
  // the passwords are in no report
  t.false(readFileSync(join(dir, 's1', 'report.json'), 'utf8').includes('pw-1'))
})

test('a plan of several scenarios in 2 shards merges per scenario: users, counts and {scenario:x} thresholds on the merged entry', async t => {
  const server = await startBoard(false)
  t.teardown(server.close)
  const dir = tempDir(t)
  const getter = (name: string, path: string): string => writeScenario(dir, `${name}.mjs`, `export default defineScenario({
    name: '${name}', async iteration (user) { await user.http.get('${path}', { headers: { 'x-user': String(user.id) } }) }
  })`)
  const options = {
    target: server.url,
    workers: 1,
    runId: 'plan-shards',
    scenarios: {
      once: { scenario: getter('once', '/once'), executor: 'constant-users' as const, users: 5, iterations: 4 },
      more: { scenario: getter('more', '/more'), executor: 'constant-users' as const, users: 3, iterations: 2 }
    },
    thresholds: { 'http.reqs{scenario:once}': ['count==20'], 'http.reqs{scenario:more}': ['count==6'] }
  }
  const shards: RunResult[] = []
  for (const index of [0, 1]) shards.push(await run({ ...options, shard: `${index}/2`, out: join(dir, `s${index}`), reports: { html: false, md: false, junit: false } }))
  // each shard holds its slice of each entry: once 0-1 | 2-4, more 5 | 6-7 (run-wide ids)
  t.deepEqual(shards.map(s => s.shard?.users), [[{ scenario: 'once', from: 0, to: 2 }, { scenario: 'more', from: 5, to: 6 }], [{ scenario: 'once', from: 2, to: 5 }, { scenario: 'more', from: 6, to: 8 }]])
  // a shard alone fails the counts the whole run must reach
  t.true(shards.every(s => s.status === 'failed'))
  const { result } = await mergeShards({ reports: [0, 1].map(i => join(dir, `s${i}`, 'report.json')), out: join(dir, 'merged'), formats: { html: false, md: true, junit: true } })
  t.is(result.status, 'passed', result.failures.join('; '))
  t.deepEqual(result.thresholds.map(r => [r.metric, r.passed]), [['http.reqs{scenario:once}', true], ['http.reqs{scenario:more}', true], ['http.req.failed', true]])
  t.deepEqual(Object.fromEntries(Object.entries(result.scenarios!).map(([k, v]) => [k, [v.users.planned, v.iterations]])), { once: [5, 20], more: [3, 6] })
  t.is((result.metrics['http.reqs'] as { count: number }).count, server.requests())
  t.is(server.requests(), 26)
})
