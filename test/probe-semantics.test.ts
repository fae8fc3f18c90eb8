// Probes and read-your-writes mean what they say: a route serving the caller's own data is not a
// violation, a stale read of one's own write is not isolation, a probe counts once, and request
// names stay bounded however many concrete paths users hit. The server is written here: login
// sets a per-user cookie, notes are per user, GET /notes goes through a 2 s cache keyed per user
// (correct) or by URL only (the planted bug).
import test from 'ava'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { run, formatSummary, METRICS, type RunResult } from '../engine/index.js'
import { MetricsAggregator, MetricsRecorder, type MetricsDelta } from '../engine/metrics/index.js'
import { tempDir, writeScenario } from './support.js'

const CACHE_TTL_MS = 2000

interface NotesServer { url: string, close: () => Promise<void> }

const letters = (): string => Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = ''
  for await (const chunk of req) body += String(chunk)
  return body === '' ? {} : JSON.parse(body) as Record<string, unknown>
}

async function startNotes (t: { teardown: (fn: () => Promise<void>) => void }, cacheKey: 'user' | 'url'): Promise<NotesServer> {
  const sessions = new Map<string, string>()
  const notes = new Map<string, string[]>()
  const items = new Map<string, string>() // id -> owner
  const cache = new Map<string, { at: number, body: string }>()
  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body))
  }
  const server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/'
      if (req.method === 'POST' && url === '/login') {
        const { name } = await readJson(req)
        const sid = letters()
        sessions.set(sid, String(name))
        res.writeHead(200, { 'set-cookie': `sid=${sid}; Path=/; HttpOnly` }).end('{}')
        return
      }
      const sid = /(?:^|;\s*)sid=([a-z]+)/.exec(req.headers.cookie ?? '')?.[1]
      const user = sid === undefined ? undefined : sessions.get(sid)
      if (user === undefined) { send(res, 401); return }
      if (req.method === 'POST' && url === '/notes') {
        const { text } = await readJson(req)
        const list = notes.get(user) ?? []
        list.push(String(text))
        notes.set(user, list)
        send(res, 201, { count: list.length })
      } else if (req.method === 'GET' && url === '/notes') {
        const key = cacheKey === 'user' ? `${user} ${url}` : url
        const hit = cache.get(key)
        if (hit !== undefined && Date.now() - hit.at < CACHE_TTL_MS) { res.writeHead(200, { 'content-type': 'application/json' }).end(hit.body); return }
        const body = JSON.stringify({ notes: notes.get(user) ?? [] })
        cache.set(key, { at: Date.now(), body })
        res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      } else if (req.method === 'POST' && url === '/items') {
        const id = `item-${letters()}` // no digits: only user.own tells it is an id
        items.set(id, user)
        send(res, 201, { id })
      } else if (req.method === 'GET' && url.startsWith('/items/')) {
        const owner = items.get(url.slice('/items/'.length))
        if (owner !== user) send(res, 404)
        else send(res, 200, { owner })
      } else {
        send(res, 404)
      }
    })().catch(() => { res.destroy() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const closeServer = (): Promise<void> => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  t.teardown(closeServer)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: closeServer }
}

const notesScenario = `export default defineScenario({
  name: 'notes',
  async setup (user) {
    await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    const text = 'first ' + user.canary('note')
    await user.http.post('/notes', { json: { text }, name: 'post note' })
    user.writes.record('last note', text)
  },
  async iteration (user) {
    const text = 'note ' + user.iterations + ' ' + user.canary('note')
    const posted = await user.http.post('/notes', { json: { text }, name: 'post note' })
    if (posted.status === 201) user.writes.record('last note', text)
    const got = await user.http.get('/notes', { name: 'get notes' })
    user.writes.verify('last note', got.json().notes.at(-1), { maxStaleMs: 2500, where: '/notes' })
    await user.probe.asOther('/notes')
    await user.sleep(100)
  }
})`

function countOf (r: RunResult, key: string): number {
  const m = r.metrics[key]
  return m?.type === 'counter' ? m.count : 0
}

test('a per-user cached route serving the caller\'s own data: 0 violations, caller-data probes and stale reads counted apart', async t => {
  const server = await startNotes(t, 'user')
  const file = writeScenario(tempDir(t), 'notes.mjs', notesScenario)
  const r = await run({ scenario: file, target: server.url, users: 40, duration: '3s', workers: 2 })
  t.is(r.isolation.violations, 0, JSON.stringify(r.isolation.samples.slice(0, 3)))
  t.is(r.isolation.incidents, 0)
  t.is(r.status, 'passed', r.failures.join('; '))
  t.true(r.isolation.callerData.probes > 0)
  t.is(r.isolation.callerData.probes, countOf(r, 'isolation.probes{result:caller-data}'))
  t.deepEqual(r.isolation.callerData.routes, ['GET /notes'])
  t.is(countOf(r, METRICS.isolationProbes), r.isolation.callerData.probes, 'every probe got the caller\'s own data')
  t.true(r.isolation.staleReads.count > 0, 'the 2 s cache served older own notes')
  t.is(r.isolation.staleReads.beyondBudget, 0)
  t.true(r.isolation.staleReads.samples.every(s => s.staleByMs <= 2500 && s.withinBudget))
  t.false('checks{check:probe denied: foreign-credentials}' in r.metrics, 'a caller-data probe is no check')
  t.like(r.metrics['checks{check:read-your-writes within budget}'], { fails: 0 })
  t.true(METRICS.isolationStaleReads in r.metrics)
  const summary = formatSummary(r)
  t.regex(summary, /probe\.asOther\('\/notes'\) got the credential owner's own data/)
  t.regex(summary, /stale reads: [\d,]+ reads showed the reader's own older write \(not violations\), all within maxStaleMs/)
})

test('the same route with its cache keyed by URL only leaks: violations, incidents, a failed run', async t => {
  const server = await startNotes(t, 'url')
  const file = writeScenario(tempDir(t), 'notes.mjs', notesScenario)
  const r = await run({ scenario: file, target: server.url, users: 40, duration: '3s', workers: 2 })
  t.is(r.status, 'failed')
  t.true(r.isolation.violations > 0)
  t.true((r.isolation.byKind['foreign-data'] ?? 0) > 0, JSON.stringify(r.isolation.byKind))
  t.true((r.isolation.byKind['read-your-writes'] ?? 0) > 0, JSON.stringify(r.isolation.byKind))
  t.true(r.isolation.samples.filter(v => v.kind === 'read-your-writes').every(v => v.owner !== v.user && /^user-\d+$/.test(v.owner)))
  t.true(r.isolation.incidents > 0 && r.isolation.incidents <= r.isolation.violations)
  t.is(r.isolation.incidents, Object.values(r.isolation.incidentsByKind).reduce((a, b) => a + b, 0))
  t.regex(formatSummary(r), /isolation: [\d,]+ INCIDENTS \([\d,]+ violations: /)
})

test('a stale own read beyond maxStaleMs is a failed check, not an isolation violation', async t => {
  const server = await startNotes(t, 'user')
  const file = writeScenario(tempDir(t), 'strict.mjs', notesScenario.replace('maxStaleMs: 2500', 'maxStaleMs: 0').replace("await user.probe.asOther('/notes')\n", ''))
  const r = await run({ scenario: file, target: server.url, users: 20, duration: '2s', workers: 2 })
  t.is(r.isolation.violations, 0, JSON.stringify(r.isolation.samples.slice(0, 3)))
  t.true(r.isolation.staleReads.beyondBudget > 0)
  t.like(r.metrics['checks{check:read-your-writes within budget}'], { fails: r.isolation.staleReads.beyondBudget })
  t.is(countOf(r, 'isolation.stale.reads{budget:exceeded}'), r.isolation.staleReads.beyondBudget)
  t.is(r.status, 'failed')
})

const itemsScenario = `export default defineScenario({
  name: 'items',
  async setup (user) {
    await user.http.post('/login', { json: { name: user.name } })
    user.state.id = (await user.http.post('/items', { name: 'create item' })).json().id
    user.own('items', user.state.id)
  },
  async iteration (user) {
    const path = '/items/' + user.state.id
    // unbounded on purpose in the second iteration: one request name per item (the first
    // iteration's names come first in every recorder, so the route-named ones are kept)
    const mine = await user.http.get(path, { name: user.iterations === 0 ? 'get item' : 'get ' + path })
    user.check(mine.status === 200, 'own item readable')
    const probe = await user.probe.asOther(path)
    user.check(probe.skipped || probe.result === 'denied', 'probe denied')
  }
})`

test('1000 users on concrete paths: probe names are route templates, other names fold into (other) past the cap, the series stays ordered', async t => {
  const server = await startNotes(t, 'user')
  const dir = tempDir(t)
  const file = writeScenario(dir, 'items.mjs', itemsScenario)
  const cap = 50
  const out = join(dir, 'out')
  const result = await run({ scenario: file, target: server.url, users: 1000, iterations: 2, workers: 2, maxRequestNames: cap, out })
  const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.is(result.status, 'passed', result.failures.join('; '))
  t.is(r.isolation.violations, 0)
  const names = new Set(Object.keys(r.metrics).filter(k => k.includes('{name:')).map(k => k.slice(k.indexOf('{name:') + 6, -1)))
  t.true(names.size <= cap + 1, `${names.size} names`)
  t.true(names.has('probe /items/:id'), [...names].slice(0, 5).join(', '))
  t.true(names.has('(other)'))
  t.is(r.requestNames.cap, cap)
  t.true((r.requestNames.folded?.names ?? 0) >= 1000 - cap, JSON.stringify(r.requestNames))
  t.true((r.requestNames.folded?.requests ?? 0) > 0)
  t.regex(r.requestNames.folded?.example ?? '', /^get \/items\//)
  t.like(r.metrics['checks{check:probe denied}'], { fails: 0, passes: 2000 })
  t.like(r.metrics['checks{check:probe denied: foreign-credentials}'], { fails: 0, passes: 2000 })
  t.is(countOf(r, 'isolation.probes{result:denied}'), 2000)
  const ts = r.timeSeries.map(p => p.t)
  t.true(ts.every((v, i) => i === 0 || v > ts[i - 1]!), `series t: ${ts.join(',')}`)
  t.regex(formatSummary(r), /request names: WARNING [\d,]+ names beyond the cap of 50 \(maxRequestNames\) were folded into \(other\)/)
})

test('names kept by different threads fold again in the main thread: the cap holds run-wide', t => {
  const agg = new MetricsAggregator(0, 3)
  for (const worker of ['a', 'b']) {
    const rec = new MetricsRecorder(3)
    for (let i = 0; i < 5; i++) rec.count(`http.reqs{name:${rec.names.bound(`${worker}${i}`)}}`)
    agg.add(rec.flush(), worker, 500)
  }
  const names = agg.keys().filter(k => k.includes('{name:'))
  t.deepEqual(names, ['http.reqs{name:(other)}', 'http.reqs{name:a0}', 'http.reqs{name:a1}', 'http.reqs{name:a2}'])
  t.is(agg.counter('http.reqs{name:(other)}'), 7, 'a3, a4 (thread a) and b0-b4 (b, then main)')
  t.like(agg.requestNames(), { cap: 3, kept: 3, folded: { names: 7, example: 'a3' } })
})

test('a tick that arrives after its second was closed goes to the oldest open second: the series stays ordered', t => {
  const agg = new MetricsAggregator(0)
  const delta = (n: number): MetricsDelta => ({ counters: { iterations: n }, rates: {}, trends: {}, gauges: {} })
  agg.add(delta(1), 'a', 1500)
  agg.add(delta(1), 'a', 5500)
  agg.add(delta(1), 'a', 7500) // closes seconds 1 and 5
  agg.add(delta(10), 'b', 1200) // a late tick covering second 1
  agg.add(delta(1), 'a', 9500)
  const series = agg.series()
  const ts = series.map(p => p.t)
  t.true(ts.every((v, i) => i === 0 || v > ts[i - 1]!), ts.join(','))
  t.is(series.reduce((n, p) => n + (p.counters.iterations ?? 0), 0), 14, 'nothing lost')
  t.is(agg.counter('iterations'), 14)
})
