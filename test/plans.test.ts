// Plans of several scenarios in one run (`scenarios`): each entry keeps its own executor and
// startTime behind one start barrier, user ids run on across the run, metrics are kept per
// scenario and overall, `{scenario:x}` thresholds judge scenario x alone, and a bug reached only
// when two scenarios run together (a response cache keyed without the user) is found.
import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { run, type RunResult } from '../engine/index.js'
import { resolveRunOptions } from '../engine/options/index.js'
import { scenarioOfKey } from '../engine/thresholds/scenario-input.js'
import { cli, tempDir, writeScenario } from './support.js'

interface TestServer {
  url: string
  /** requests by path, users (x-user) by path, first request by path (performance.now()) */
  hits: Map<string, number>
  users: Map<string, Set<number>>
  first: Map<string, number>
  close: () => Promise<void>
}

/** A server that counts what it answers; `handle` may answer a request itself (true). */
async function startServer (handle?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean): Promise<TestServer> {
  const hits = new Map<string, number>()
  const users = new Map<string, Set<number>>()
  const first = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      const path = req.url ?? '/'
      hits.set(path, (hits.get(path) ?? 0) + 1)
      if (!first.has(path)) first.set(path, performance.now())
      const set = users.get(path) ?? new Set<number>()
      set.add(Number(req.headers['x-user']))
      users.set(path, set)
      if (handle?.(req, res, body) === true) return
      // /slow answers after 25 ms, everything else at once
      setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') }, path === '/slow' ? 25 : 0)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    users,
    first,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/** A scenario that GETs `path` once per iteration, its user id in x-user. */
function getter (dir: string, name: string, path: string): string {
  return writeScenario(dir, `${name}.mjs`, `export default defineScenario({
  name: '${name}',
  async setup (user) { user.http.headers['x-user'] = String(user.id) },
  async iteration (user) {
    const r = await user.http.get('${path}', { name: '${name}' })
    user.check(r.status === 200, '${name} ok')
  }
})`)
}

const count = (r: { metrics: RunResult['metrics'] }, key: string): number => {
  const m = r.metrics[key]
  return m?.type === 'counter' ? m.count : 0
}

test('three scenarios with their own executors start together, each reaching its own shape; counts add up to the server\'s', async t => {
  const server = await startServer()
  t.teardown(() => server.close())
  const dir = tempDir(t)
  const r = await run({
    target: server.url,
    workers: 2,
    out: join(dir, 'report'),
    scenarios: {
      once: { scenario: getter(dir, 'once', '/once'), executor: 'constant-users', users: 3, iterations: 5 },
      rate: { scenario: getter(dir, 'rate', '/rate'), executor: 'constant-arrival-rate', rate: 20, duration: '2s', users: 2, maxUsers: 10 },
      ramp: { scenario: getter(dir, 'ramp', '/slow'), executor: 'ramping-users', stages: '1s:4,1s:4', startTime: '1s', tags: { flow: 'ramp' } }
    },
    thresholds: {
      'http.req.duration{scenario:ramp}': ['p(95)<10'],
      'http.req.duration{scenario:once}': ['p(95)<5000'],
      'http.reqs{scenario:once}': ['count==15']
    }
  })
  const s = r.scenarios!
  t.deepEqual(Object.keys(s), ['once', 'rate', 'ramp'])
  // each its own shape: 3 users x 5 iterations; 20/s for 2 s is 40 arrivals (run or dropped); the ramp's 4 users
  t.is(s.once!.iterations, 15)
  t.is(s.rate!.iterations + count(s.rate!, 'dropped.iterations'), 40)
  t.is(s.ramp!.users.planned, 4)
  t.is(s.ramp!.users.peakActive, 4)
  t.is(s.ramp!.startTimeMs, 1000)
  t.deepEqual(s.ramp!.tags, { flow: 'ramp' })
  t.is(s.ramp!.executor.name, 'ramping-users')
  t.is(s.rate!.executor.model, 'open')
  // per-scenario requests add up exactly to the run's, and to what the server answered
  const perScenario = ['once', 'rate', 'ramp'].map(n => count(s[n]!, 'http.reqs'))
  t.deepEqual(perScenario, [server.hits.get('/once'), server.hits.get('/rate'), server.hits.get('/slow')])
  t.is(perScenario.reduce((a, b) => a + b, 0), count(r, 'http.reqs'))
  t.is(count(r, 'http.reqs'), [...server.hits.values()].reduce((a, b) => a + b, 0))
  // one run-wide user id space: consecutive ranges, in the order of the entries
  t.deepEqual([...server.users.get('/once')!].sort((a, b) => a - b), [0, 1, 2])
  t.true([...server.users.get('/rate')!].every(id => id >= 3 && id <= 12), [...server.users.get('/rate')!].join())
  t.deepEqual([...server.users.get('/slow')!].sort((a, b) => a - b), [13, 14, 15, 16])
  t.is(r.users.planned, 3 + 10 + 4)
  // the ramp waited for its startTime after the one barrier (a lower bound: never before it)
  t.true(server.first.get('/slow')! - server.first.get('/once')! >= 800, `${server.first.get('/slow')! - server.first.get('/once')!} ms`)
  // the threshold on one scenario's tag fails that scenario alone, and the run
  t.is(r.status, 'failed')
  t.is(s.ramp!.status, 'failed')
  t.is(s.once!.status, 'passed')
  t.is(s.rate!.status, 'passed')
  t.deepEqual(s.once!.thresholds.map(x => [x.metric, x.passed]), [['http.req.duration{scenario:once}', true], ['http.reqs{scenario:once}', true]])
  const failedThresholds = r.failures.filter(f => f.startsWith('threshold'))
  t.is(failedThresholds.length, 1, failedThresholds.join('; '))
  t.true(failedThresholds[0]!.startsWith('threshold http.req.duration{scenario:ramp}: p(95)<10 failed ('), failedThresholds[0])
  t.is(r.isolation.violations, 0)
  // report.json, summary.md carry the scenarios (the schema check ran on the result)
  const report = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')) as RunResult
  t.deepEqual(Object.keys(report.scenarios ?? {}), ['once', 'rate', 'ramp'])
  const md = readFileSync(join(dir, 'report', 'summary.md'), 'utf8')
  t.regex(md, /## Scenarios \(3\)/)
  t.regex(md, /\| ramp \| ramping-users from 1 s \| 4 · peak 4 · lost 0 \|.*✗ 1 of 1 failed \|/)
})

/**
 * A response cache keyed by path only: PUT /profile answers the writer's profile and GET /profile
 * its own, and either answer is cached for 300 ms for everyone. Writers never read and readers
 * never write, so only the two together put a writer's canary in a reader's answer.
 */
async function startCacheServer (): Promise<TestServer> {
  const profiles = new Map<string, string>()
  let cached: { body: string, until: number } | undefined
  return await startServer((req, res, body) => {
    if (req.url !== '/profile') return false
    const user = String(req.headers['x-user'])
    let answer: string
    if (req.method === 'GET' && cached !== undefined && cached.until > performance.now()) {
      answer = cached.body // the bug: cached without the user in its key
    } else {
      if (req.method === 'PUT') profiles.set(user, (JSON.parse(body) as { note: string }).note)
      answer = JSON.stringify({ user, note: profiles.get(user) ?? '' })
      cached = { body: answer, until: performance.now() + 300 }
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(answer)
    return true
  })
}

function cacheScenarios (dir: string): { writer: string, reader: string } {
  const common = "async setup (user) { user.http.headers['x-user'] = String(user.id) },"
  return {
    writer: writeScenario(dir, 'writer.mjs', `export default defineScenario({ name: 'writer', ${common}
  async iteration (user) { await user.http.put('/profile', { json: { note: user.canary('profile') }, name: 'write profile' }) } })`),
    reader: writeScenario(dir, 'reader.mjs', `export default defineScenario({ name: 'reader', ${common}
  async iteration (user) { await user.http.get('/profile', { name: 'read profile' }) } })`)
  }
}

test('a cache shared across users is found when a writer and a reader scenario run together, and by neither alone', async t => {
  const dir = tempDir(t)
  const { writer, reader } = cacheScenarios(dir)
  const entries = {
    writer: { scenario: writer, executor: 'constant-users' as const, users: 4, duration: '1500ms' },
    reader: { scenario: reader, executor: 'constant-users' as const, users: 4, duration: '1500ms' }
  }
  const once = async (scenarios: Partial<typeof entries>): Promise<RunResult> => {
    const server = await startCacheServer()
    try {
      return await run({ target: server.url, workers: 2, scenarios: scenarios })
    } finally {
      await server.close()
    }
  }
  // the three runs at once, each with its own server (the engine's start-up and shutdown are most of a short run)
  const [together, ...results] = await Promise.all([once(entries), once({ writer: entries.writer }), once({ reader: entries.reader })])
  t.is(together.status, 'failed')
  t.true(together.isolation.violations > 0)
  t.true((together.isolation.byKind['foreign-data'] ?? 0) > 0, JSON.stringify(together.isolation.byKind))
  // a reader (users 4-7) saw a writer's (users 0-3) canary in GET /profile
  const sample = together.isolation.samples[0]!
  t.is(sample.where.path, '/profile')
  t.true(Number(sample.user.replace('user-', '')) >= 4, sample.user)
  t.true(Number(sample.owner.replace('user-', '')) < 4, sample.owner)

  for (const [i, r] of results.entries()) {
    const alone = i === 0 ? 'writer' : 'reader'
    t.is(r.isolation.violations, 0, alone)
    t.is(r.status, 'passed', `${alone}: ${r.failures.join('; ')}`)
    t.true(r.scenarios![alone]!.iterations > 0, alone)
  }
})

test('a plan\'s problems are all reported at once; a threshold on an unknown scenario is CT_ERR_THRESHOLD_METRIC', t => {
  const err = t.throws(() => resolveRunOptions({
    fixture: true,
    users: 5,
    executor: 'ramping-users',
    scenarios: {
      good: { scenario: 'items', users: 2, iterations: 1 },
      'bad name': { scenario: 'items', users: 2 },
      noRate: { scenario: 'items', executor: 'constant-arrival-rate', startTime: 'soon', colour: 'red' } as never,
      spiky: { scenario: 'items', executor: 'breakpoint', rate: 10 }
    }
  }))
  t.is((err as { code?: string }).code, 'CT_ERR_CONFIG')
  const text = err.message
  t.regex(text, /scenarios: executor, users cannot be given with scenarios; set them in each scenario's entry/)
  t.regex(text, /scenarios\.bad name: a scenario name is letters, digits/)
  t.regex(text, /scenarios\.noRate: unknown option 'colour'/)
  t.regex(text, /scenarios\.noRate: invalid startTime 'soon'/)
  t.regex(text, /scenarios\.noRate: constant-arrival-rate needs a rate/)
  t.regex(text, /scenarios\.spiky: the breakpoint executor runs alone/)
  t.notRegex(text, /scenarios\.good/)

  const unknown = t.throws(() => resolveRunOptions({
    fixture: true,
    scenarios: { chat: { scenario: 'items', users: 2, iterations: 1 } },
    thresholds: { 'http.req.duration{scenario:chta}': ['p(95)<50'] }
  }))
  t.is((unknown as { code?: string }).code, 'CT_ERR_THRESHOLD_METRIC')
  t.regex(unknown.message, /names scenario 'chta', which is not one of this run's scenarios \(chat\)/)
  const single = t.throws(() => resolveRunOptions({ fixture: true, thresholds: { 'http.reqs{scenario:chat}': ['count>0'] } }))
  t.is((single as { code?: string }).code, 'CT_ERR_THRESHOLD_METRIC')

  // routing strips the scenario tag and keeps the others (keys with several tags, once the parser takes them)
  t.deepEqual(scenarioOfKey('http.req.duration{scenario:chat}'), { scenario: 'chat', key: 'http.req.duration' })
  t.deepEqual(scenarioOfKey('http.reqs{name:send,scenario:chat}'), { scenario: 'chat', key: 'http.reqs{name:send}' })
  t.deepEqual(scenarioOfKey('http.reqs{scenario:chat,status:200,name:a:b}'), { scenario: 'chat', key: 'http.reqs{name:a:b,status:200}' })
  t.is(scenarioOfKey('http.reqs{name:send}'), undefined)

  // the plan as a whole: users summed, the load until the last entry's ends (startTime + duration)
  const o = resolveRunOptions({
    fixture: true,
    scenarios: {
      a: { scenario: 'items', users: 2, duration: '2s' },
      b: { scenario: 'items', executor: 'constant-arrival-rate', rate: 5, duration: '1s', users: 1, maxUsers: 3, startTime: '3s' }
    }
  })
  t.is(o.plan.maxUsers, 5)
  t.is(o.plan.durationMs, 4000)
  t.deepEqual(o.scenarios!.map(e => [e.name, e.startTimeMs, e.plan.executor]), [['a', 0, 'constant-users'], ['b', 3000, 'constant-arrival-rate']])
})

test('crosstalk run --config plan.mjs runs the plan on the embedded fixture and prints each scenario and the whole', async t => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'plan.mjs'), `export default {
  scenarios: {
    shop: { scenario: 'items', executor: 'constant-users', users: 2, iterations: 2 },
    late: { scenario: 'items', executor: 'constant-users', users: 2, iterations: 1, startTime: '500ms' }
  },
  thresholds: { 'iterations{scenario:shop}': ['count==4'] },
  workers: 2
}
`)
  const r = await cli(['run', '--config', 'plan.mjs', '--out', 'out', '--no-html'], { cwd: dir, timeoutMs: 50_000 })
  t.is(r.code, 0, r.stderr + r.stdout)
  t.regex(r.stdout, /scenario shop \(items\) · 1 thresholds passed/)
  t.regex(r.stdout, /scenario late \(items\)/)
  t.regex(r.stdout, /starts 0\.5s after the others' start/)
  t.regex(r.stdout, /overall \(every scenario\)/)
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as RunResult
  t.is(report.scenarios!.shop!.iterations, 4)
  t.is(report.scenarios!.late!.iterations, 2)
  t.is(count(report, 'iterations'), 6)
  t.is(report.scenario.name, 'shop, late')
})

test('run-wide before/after are one per run: a plan refuses them on an entry other than the first, before any load', async t => {
  const dir = tempDir(t)
  const plain = writeScenario(dir, 'plain.mjs', `export default defineScenario({ name: 'plain', async iteration (user) { await user.http.get('/health') } })`)
  const seeded = writeScenario(dir, 'seeded.mjs', `export default defineScenario({ name: 'seeded', before () { return { n: 1 } }, async iteration (user) { await user.http.get('/health') } })`)
  const err = await t.throwsAsync(run({
    fixture: true,
    scenarios: {
      first: { scenario: plain, executor: 'constant-users', users: 2, iterations: 1 },
      second: { scenario: seeded, executor: 'constant-users', users: 2, iterations: 1 }
    }
  }))
  t.is((err as { code?: string }).code, 'CT_ERR_SCENARIO_INVALID')
  t.regex(err.message, /scenarios\.second: only a plan's first entry \(first\) may have before\/after/)
})
