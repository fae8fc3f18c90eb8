import test, { type ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Session } from 'node:inspector'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { Agent, request, type Dispatcher } from 'undici'
import type { Socket } from 'node:net'
import v8 from 'node:v8'
import { WebSocket } from 'ws'
import {
  EVENT_FAULTS,
  FIXTURE_BUGS,
  FIXTURE_LEAKS,
  ISOLATION_BUGS,
  parseFixtureArgs,
  startFixture,
  validateFixtureOptions,
  type FixtureLeak,
  type FixtureOptions,
  type LeakStats
} from '../fixtures/index.js'

// ---------------------------------------------------------------- helpers

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON from the wire
}

interface CallOptions {
  token?: string
  cookie?: string
  body?: unknown
  rawBody?: string | Buffer
}

/** A fixture closed in teardown, with a JSON client on its own connection pool. */
async function fixture(t: ExecutionContext, options?: FixtureOptions) {
  const f = await startFixture(options)
  const agent = new Agent({ keepAliveTimeout: 10_000 })
  const sockets: WebSocket[] = []
  t.teardown(async () => {
    for (const ws of sockets) ws.terminate()
    await f.close()
    await agent.destroy()
  })

  async function call(method: string, path: string, o: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {}
    if (o.token) headers.authorization = `Bearer ${o.token}`
    if (o.cookie) headers.cookie = o.cookie
    let body: string | Buffer | undefined = o.rawBody
    if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers['content-type'] = 'application/json'
    }
    const res = await request(f.url + path, { method: method, headers, body, dispatcher: agent })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
  }

  async function login(name: string, note?: string): Promise<{ token: string; id: string }> {
    const r = await call('POST', '/login', { body: note === undefined ? { name } : { name, note } })
    if (r.status !== 200) throw new Error(`login ${name}: ${r.status}`)
    return { token: r.body.token, id: r.body.user.id }
  }

  /** An open /events socket; `auth` picks how the token travels. */
  async function socket(token: string, auth: 'bearer' | 'cookie' | 'query' = 'bearer'): Promise<WebSocket> {
    const url = auth === 'query' ? `${f.wsUrl}?token=${token}` : f.wsUrl
    const headers = auth === 'bearer' ? { authorization: `Bearer ${token}` } : auth === 'cookie' ? { cookie: `sid=${token}` } : {}
    const ws = new WebSocket(url, { headers, perMessageDeflate: false })
    sockets.push(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return ws
  }

  return { f, agent, call, login, socket }
}

function messages(ws: WebSocket): any[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const received: unknown[] = []
  ws.on('message', (data) => received.push(JSON.parse((data as Buffer).toString())))
  return received
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition')
    await delay(10)
  }
}

function microsNow(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

// ---------------------------------------------------------------- API basics

test('login, me, items CRUD, ownership and logout', async (t) => {
  const { call, login } = await fixture(t)

  const first = await call('POST', '/login', { body: { name: 'alice', note: 'alice-note' } })
  t.is(first.status, 200)
  t.regex(first.headers['content-type'] as string, /^application\/json/)
  t.regex(first.body.token, /^[0-9a-f]{32}$/)
  t.deepEqual(first.body.user, { id: first.body.user.id, name: 'alice' })
  t.is(first.headers['set-cookie'], `sid=${first.body.token}; HttpOnly; Path=/`)
  const alice = first.body.token as string
  const bob = (await login('bob', 'bob-note')).token

  const me = await call('GET', '/me', { token: alice })
  t.deepEqual(me.body, { id: first.body.user.id, name: 'alice', note: 'alice-note' })
  t.deepEqual((await call('GET', '/me', { cookie: `theme=dark; sid=${bob}` })).body.name, 'bob')

  // A second login is a new session of the same user.
  const again = await login('alice')
  t.not(again.token, alice)
  t.is(again.id, first.body.user.id)
  t.is((await call('GET', '/me', { token: again.token })).body.note, 'alice-note')

  const created = await call('POST', '/items', { token: alice, body: { note: 'a1', value: { n: 1 } } })
  t.is(created.status, 201)
  t.like(created.body, { owner: 'alice', note: 'a1', value: { n: 1 }, version: 1 })
  t.regex(created.body.id, /^it_/)
  const id = created.body.id as string
  await call('POST', '/items', { token: bob, body: { note: 'b1' } })

  t.deepEqual((await call('GET', '/items', { token: alice })).body.items.map((i: { note: string }) => i.note), ['a1'])
  t.deepEqual((await call('GET', '/items', { token: bob })).body.items.map((i: { note: string }) => i.note), ['b1'])
  t.is((await call('GET', `/items/${id}`, { token: alice })).body.note, 'a1')
  t.is((await call('GET', `/items/${id}`, { token: bob })).status, 403)
  t.is((await call('GET', '/items/it_0_missing', { token: alice })).status, 404)

  const updated = await call('PUT', `/items/${id}`, { token: alice, body: { note: 'a2', value: 2 } })
  t.is(updated.status, 200)
  t.like(updated.body, { id, owner: 'alice', note: 'a2', value: 2, version: 2 })
  t.is((await call('PUT', `/items/${id}`, { token: bob, body: { note: 'stolen' } })).status, 403)
  t.is((await call('DELETE', `/items/${id}`, { token: bob })).status, 403)
  t.is((await call('GET', `/items/${id}`, { token: alice })).body.note, 'a2')
  t.is((await call('DELETE', `/items/${id}`, { token: alice })).status, 204)
  t.is((await call('GET', `/items/${id}`, { token: alice })).status, 404)

  t.is((await call('POST', '/logout', { token: alice })).status, 204)
  t.is((await call('GET', '/me', { token: alice })).status, 401)
  t.is((await call('GET', '/me', { token: again.token })).status, 200, 'other sessions of the user survive')
})

test('401 without auth, 400 on bad input, 404 unknown route, 413 on a large body', async (t) => {
  const { call, login } = await fixture(t)
  for (const [method, path] of [['GET', '/me'], ['GET', '/items'], ['POST', '/items'], ['GET', '/items/x'], ['POST', '/logout']] as const) {
    const r = await call(method, path)
    t.is(r.status, 401, `${method} ${path}`)
    t.deepEqual(r.body, { error: 'unauthorized' })
  }
  t.is((await call('GET', '/me', { token: 'f'.repeat(32) })).status, 401)
  t.is((await call('GET', '/me', { cookie: 'sid=nope' })).status, 401)

  t.is((await call('POST', '/login', { body: {} })).status, 400)
  t.is((await call('POST', '/login', { body: { name: '' } })).status, 400)
  t.is((await call('POST', '/login', { rawBody: '{"name":' })).status, 400)
  const { token } = await login('carol')
  t.is((await call('POST', '/items', { token, rawBody: 'not json' })).status, 400)
  t.is((await call('GET', '/nope')).status, 404)
  t.is((await call('DELETE', '/me', { token })).status, 404)

  const big = await call('POST', '/items', { token, rawBody: JSON.stringify({ note: 'x'.repeat(1024 * 1024) }) })
  t.is(big.status, 413)
  t.is((await call('POST', '/items', { token, body: { note: 'x'.repeat(1000 * 1000) } })).status, 201, 'just under 1 MiB is fine')
})

test('stats count requests per true user and peaks of in-flight, sockets and websockets', async (t) => {
  const { f, call, login, socket } = await fixture(t, { latencyMs: 150 })
  const a = await login('a', 'na')
  await login('b')
  await call('GET', '/nope')
  await call('GET', '/me')
  await call('GET', '/health')
  await call('GET', '/stats')
  // Ten at once, each held 150 ms by the latency: they must all be in flight together.
  await Promise.all(Array.from({ length: 10 }, () => call('GET', '/me', { token: a.token })))

  const s = f.stats()
  t.is(s.requests, 14)
  t.deepEqual(s.requestsByUser, { a: 11, b: 1 })
  t.is(s.users, 2)
  t.is(s.peakInFlight, 10)
  t.is(s.inFlight, 0)
  t.true(s.peakOpenSockets >= 10, `peakOpenSockets ${s.peakOpenSockets}`)
  t.deepEqual(s.crossUser, { total: 0, byBug: {}, entries: [] })
  t.deepEqual(s.leaks, NO_LEAKS, 'no leak planted, nothing held')

  const before = s.openSockets
  const sockets = await Promise.all([socket(a.token), socket(a.token, 'cookie'), socket(a.token, 'query')])
  await until(() => f.stats().openWebSockets === 3)
  t.is(f.stats().openSockets, before + 3)
  t.true(f.stats().peakOpenSockets >= before + 3)
  sockets[0].close()
  await until(() => f.stats().openWebSockets === 2)
  t.is(f.stats().peakOpenWebSockets, 3)

  // /stats over HTTP is the same snapshot, and is not counted itself.
  const viaHttp = (await call('GET', '/stats')).body
  t.is(viaHttp.requests, 14)
  t.is(viaHttp.peakOpenWebSockets, 3)
})

test('events arrive in seq order with send times; echo answers only the sender', async (t) => {
  const { f, login, socket } = await fixture(t, { eventsPerSecond: 50 })
  const ann = await login('ann', 'ann-note')
  const ben = await login('ben', 'ben-note')
  const start = microsNow()
  const annWs = await socket(ann.token)
  const benWs = await socket(ben.token, 'query')
  const annGot = messages(annWs)
  const benGot = messages(benWs)
  await until(() => annGot.length >= 6)
  const now = microsNow()

  const events = annGot.slice(0, 6)
  t.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6])
  for (const [i, e] of events.entries()) {
    t.like(e, { type: 'event', stream: ann.id, owner: 'ann', data: { note: 'ann-note' } })
    t.true(e.t >= start && e.t <= now, `t ${e.t} outside [${start}, ${now}]`)
    if (i > 0) t.true(e.t >= events[i - 1].t)
  }
  // 50/s: six events take about 100 ms (the first is sent at once), not a burst and not seconds.
  t.true(now - start < 1_000_000)

  annWs.send(JSON.stringify({ type: 'echo', id: 7, payload: [1, 2], user: 'spoofed' }))
  await until(() => annGot.some((m) => m.type === 'echo'))
  t.deepEqual(annGot.find((m) => m.type === 'echo'), { type: 'echo', user: 'ann', id: 7, payload: [1, 2] })
  annWs.send('not json') // ignored, the socket stays usable
  annWs.send(JSON.stringify({ type: 'echo', id: 8 }))
  await until(() => annGot.filter((m) => m.type === 'echo').length === 2)
  t.false(benGot.some((m) => m.type === 'echo'))
  t.true(benGot.every((m) => m.owner === 'ben' && m.stream === ben.id))
  t.true(f.stats().eventsSent >= annGot.length - 2 + benGot.length)

  // Unauthenticated upgrades are refused with 401, unknown paths with 404.
  for (const [url, status] of [[f.wsUrl, 401], [`${f.wsUrl}?token=bad`, 401], [f.url.replace('http', 'ws') + '/nope', 404]] as const) {
    const ws = new WebSocket(url)
    ws.on('error', () => {}) // terminating a refused handshake reports an error
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }]
    t.is(res.statusCode, status)
    ws.terminate()
  }
})

test('latencyMs delays every response but /health and /stats', async (t) => {
  const { call } = await fixture(t, { latencyMs: 200 })
  let start = performance.now()
  t.is((await call('GET', '/nope')).status, 404)
  t.true(performance.now() - start >= 199, `404 after ${performance.now() - start} ms`)
  start = performance.now()
  await call('POST', '/login', { body: { name: 'x' } })
  t.true(performance.now() - start >= 199)
  start = performance.now()
  await call('GET', '/health')
  await call('GET', '/stats')
  t.true(performance.now() - start < 150, 'probes are not delayed')
})

test('concurrency queues requests beyond its slots, in order, so latency grows with the queue', async (t) => {
  const { call } = await fixture(t, { latencyMs: 100, concurrency: 2 })
  const start = performance.now()
  const done: number[] = []
  // 6 requests on 2 slots of 100 ms: they finish in three waves
  await Promise.all(Array.from({ length: 6 }, () => call('GET', '/nope').then(() => done.push(performance.now() - start))))
  done.sort((a, b) => a - b)
  t.true(done[1]! >= 99 && done[1]! < 190, `first wave ${done.slice(0, 2)}`)
  t.true(done[3]! >= 199, `second wave ${done.slice(2, 4)}`)
  t.true(done[5]! >= 299, `third wave ${done.slice(4)}`)
})

test('errorRate 1 answers every non-login request 500', async (t) => {
  const { f, call, login } = await fixture(t, { errorRate: 1 })
  const { token } = await login('eve')
  t.is((await call('GET', '/me', { token })).status, 500)
  t.is((await call('POST', '/items', { token, body: {} })).status, 500)
  t.is((await call('GET', '/items')).status, 500)
  t.is((await call('GET', '/health')).status, 200)
  t.is((await call('GET', '/stats')).status, 200)
  t.is(f.stats().requests, 4)
})

test('close() is prompt with 2000 open connections and requests in flight', async (t) => {
  const f = await startFixture({ latencyMs: 300, eventsPerSecond: 20 })
  t.teardown(() => f.close())
  const agent = new Agent({ keepAliveTimeout: 30_000 })
  t.teardown(() => agent.destroy())
  const clients: WebSocket[] = []
  t.teardown(() => clients.forEach((ws) => ws.terminate()))

  const get = (path: string, headers: Record<string, string> = {}) =>
    request(f.url + path, { headers, dispatcher: agent }).then((r) => r.body.text())
  // Concurrent delayed requests force one keep-alive connection each.
  await Promise.all(Array.from({ length: 1750 }, () => get('/me')))
  const token = JSON.parse(
    await request(f.url + '/login', { method: 'POST', body: '{"name":"z"}', dispatcher: agent }).then((r) => r.body.text())
  ).token as string
  await Promise.all(
    Array.from({ length: 250 }, async () => {
      const ws = new WebSocket(f.wsUrl, { headers: { authorization: `Bearer ${token}` } })
      ws.on('error', () => {})
      clients.push(ws)
      await once(ws, 'open')
    })
  )
  const pending = Array.from({ length: 50 }, () => get('/me', { authorization: `Bearer ${token}` }).catch(() => 'failed'))
  await until(() => f.stats().inFlight === 50)
  t.true(f.stats().openSockets >= 2000, `openSockets ${f.stats().openSockets}`)

  const start = performance.now()
  await f.close()
  const took = performance.now() - start
  t.true(took < 1000, `close took ${took} ms`)
  t.deepEqual(await Promise.all(pending), Array(50).fill('failed'))
  await t.throwsAsync(request(f.url + '/health'))
})

test('a port in use rejects with EADDRINUSE', async (t) => {
  const { f } = await fixture(t)
  const err = await t.throwsAsync(startFixture({ port: f.port }))
  t.is((err as NodeJS.ErrnoException).code, 'EADDRINUSE')
})

test('validateFixtureOptions fills defaults and rejects bad options clearly', async (t) => {
  t.deepEqual(validateFixtureOptions(undefined), {
    port: 0,
    host: '127.0.0.1',
    mode: 'context',
    bugs: [],
    latencyMs: 0,
    concurrency: 0,
    errorRate: 0,
    eventsPerSecond: 1,
    eventRate: 0,
    topicEventsPerSecond: 1,
    eventPayloadBytes: 0,
    ioPingMs: 0,
    leaks: [],
    downAtMs: 0,
    downForMs: 0,
    crashAfterRequests: 0,
    dropShare: 0
  })
  t.deepEqual(validateFixtureOptions({ bugs: ['idor', 'idor'], mode: 'legacy' }).bugs, ['idor'])
  t.deepEqual(
    [...FIXTURE_BUGS],
    ['shared-cache', 'idor', 'ws-broadcast', 'shared-decoration', 'session-mixup',
      'drop-events', 'dup-events', 'reorder-events', 'slow-consumer']
  )
  t.deepEqual([...ISOLATION_BUGS, ...EVENT_FAULTS], [...FIXTURE_BUGS])
  t.deepEqual(validateFixtureOptions({ bugs: ['drop-events', 'slow-consumer'] }).bugs, ['drop-events', 'slow-consumer'])
  t.throws(() => validateFixtureOptions({ bugs: ['nope'] }), { message: /unknown fixture bug "nope".*known: shared-cache/ })
  t.throws(() => validateFixtureOptions({ mode: 'modern' }), { message: /"mode" must be one of legacy, context/ })
  t.throws(() => validateFixtureOptions({ latencyMs: -1 }), { message: /"latencyMs"/ })
  t.throws(() => validateFixtureOptions({ errorRate: 1.5 }), { message: /"errorRate" must be a number from 0 to 1/ })
  t.throws(() => validateFixtureOptions({ eventsPerSecond: Number.NaN }), { message: /"eventsPerSecond"/ })
  t.throws(() => validateFixtureOptions({ port: 80.5 }), { message: /"port"/ })
  t.throws(() => validateFixtureOptions({ eventRate: -1 }), { message: /"eventRate" must be a number/ })
  t.throws(() => validateFixtureOptions({ topicEventsPerSecond: Infinity }), { message: /"topicEventsPerSecond"/ })
  t.throws(() => validateFixtureOptions({ eventPayloadBytes: 1.5 }), { message: /"eventPayloadBytes" must be an integer/ })
  t.throws(() => validateFixtureOptions({ eventPayloadBytes: 2 * 1024 * 1024 }), { message: /"eventPayloadBytes"/ })
  t.throws(() => validateFixtureOptions({ host: '0.0.0.0' }), { message: /loopback/ })
  t.throws(() => validateFixtureOptions({ latency: 5 }), { message: /unknown fixture option "latency"/ })
  t.deepEqual([...FIXTURE_LEAKS], ['listener-leak', 'map-leak', 'timer-closure-leak', 'bounded-cache'])
  t.deepEqual(validateFixtureOptions({ leaks: ['map-leak', 'bounded-cache', 'map-leak'] }).leaks, ['map-leak', 'bounded-cache'])
  t.throws(() => validateFixtureOptions({ leaks: ['map-leak', 'heap-leak'] }), {
    message: 'unknown fixture leak "heap-leak" (known: listener-leak, map-leak, timer-closure-leak, bounded-cache)'
  })
  t.throws(() => validateFixtureOptions({ leaks: 'map-leak' }), { message: /"leaks" must be an array, got "map-leak"/ })
  await t.throwsAsync(startFixture({ leaks: ['nope' as FixtureLeak] }), { message: /unknown fixture leak "nope"/ })
  await t.throwsAsync(startFixture({ host: '0.0.0.0' }), { message: /loopback/ })
})

test('parseFixtureArgs reads the child command line', (t) => {
  t.deepEqual(parseFixtureArgs([]), { inspect: false })
  t.deepEqual(
    parseFixtureArgs([
      '--port', '0', '--host', '127.0.0.1', '--mode', 'legacy', '--bug', 'idor', '--bug', 'ws-broadcast,shared-cache',
      '--latency-ms', '5', '--error-rate', '0.25', '--events-per-second', '3', '--event-rate', '2000',
      '--topic-events-per-second', '0', '--event-payload-bytes', '1024', '--bug', 'reorder-events', '--inspect',
      '--leak', 'map-leak', '--leak', 'timer-closure-leak, bounded-cache'
    ]),
    {
      port: 0,
      host: '127.0.0.1',
      mode: 'legacy',
      bugs: ['idor', 'ws-broadcast', 'shared-cache', 'reorder-events'],
      latencyMs: 5,
      errorRate: 0.25,
      eventsPerSecond: 3,
      eventRate: 2000,
      topicEventsPerSecond: 0,
      eventPayloadBytes: 1024,
      leaks: ['map-leak', 'timer-closure-leak', 'bounded-cache'],
      inspect: true
    }
  )
  t.deepEqual(parseFixtureArgs(['--leak', ' map-leak ,,']).leaks, ['map-leak'])
  t.throws(() => parseFixtureArgs(['--bug', 'nope']), { message: /nope/ })
  t.throws(() => parseFixtureArgs(['--leak', 'map-leak,nope']), { message: /unknown fixture leak "nope" \(known: listener-leak, / })
  t.throws(() => parseFixtureArgs(['--port', 'abc']), { message: /--port expects a number/ })
  t.throws(() => parseFixtureArgs(['--event-rate', 'fast']), { message: /--event-rate expects a number/ })
  t.throws(() => parseFixtureArgs(['--event-payload-bytes', '0.5']), { message: /"eventPayloadBytes" must be an integer/ })
  t.throws(() => parseFixtureArgs(['--what']))
  t.throws(() => parseFixtureArgs(['stray']))
})

// ---------------------------------------------------------------- child process

const CHILD = new URL('../fixtures/child.js', import.meta.url).pathname

function spawnChild(t: ExecutionContext, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

async function withTimeout<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function firstLine(stream: Readable): Promise<string> {
  const lines = createInterface({ input: stream })
  const [line] = (await withTimeout(once(lines, 'line'))) as [string]
  lines.close()
  return line
}

async function readAll(stream: Readable): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  return text
}

for (const inspect of [false, true]) {
  test(`child process prints one JSON line${inspect ? ' with --inspect' : ''} and exits 0 on SIGTERM`, async (t) => {
    const child = spawnChild(t, ['--port', '0', '--bug', 'idor', ...(inspect ? ['--inspect'] : [])])
    const exited = once(child, 'exit')
    const ready = JSON.parse(await firstLine(child.stdout!))
    t.deepEqual(Object.keys(ready).sort(), ['pid', 'port', 'url', 'wsUrl', ...(inspect ? ['inspectorUrl'] : [])].sort())
    t.is(ready.pid, child.pid)
    t.is(ready.url, `http://127.0.0.1:${ready.port}`)
    t.is(ready.wsUrl, `ws://127.0.0.1:${ready.port}/events`)
    if (inspect) t.regex(ready.inspectorUrl, /^ws:\/\/127\.0\.0\.1:\d+\//)
    const health = await request(ready.url + '/health')
    t.deepEqual(await health.body.json(), { ok: true })
    child.kill('SIGTERM')
    t.deepEqual(await withTimeout(exited), [0, null])
  })
}

test('child process exits 2 with a one-line message on bad args or a port in use', async (t) => {
  const bad = spawnChild(t, ['--bug', 'nope'])
  const [badErr, [badCode]] = await withTimeout(Promise.all([readAll(bad.stderr!), once(bad, 'exit')]))
  t.is(badCode, 2)
  t.regex(badErr, /^fixture: unknown fixture bug "nope".*\n$/)

  const badLeak = spawnChild(t, ['--leak', 'map-leak', '--leak', 'nope'])
  const [leakErr, [leakCode]] = await withTimeout(Promise.all([readAll(badLeak.stderr!), once(badLeak, 'exit')]))
  t.is(leakCode, 2)
  t.is(leakErr, 'fixture: unknown fixture leak "nope" (known: listener-leak, map-leak, timer-closure-leak, bounded-cache)\n')

  const { f } = await fixture(t)
  const busy = spawnChild(t, ['--port', String(f.port)])
  const [busyErr, [busyCode]] = await withTimeout(Promise.all([readAll(busy.stderr!), once(busy, 'exit')]))
  t.is(busyCode, 2)
  t.is(busyErr, `fixture: port ${f.port} is in use\n`)
})

// ---------------------------------------------------------------- planted memory leaks

const NO_LEAKS: LeakStats = { listeners: 0, mapEntries: 0, timers: 0, cacheEntries: 0 }

/** Used heap right after full GCs, forced through the inspector (no --expose-gc needed). */
async function usedHeapAfterGc(): Promise<number> {
  const session = new Session()
  session.connect()
  try {
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) =>
        session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve()))
      )
    }
  } finally {
    session.disconnect()
  }
  return v8.getHeapStatistics().used_heap_size
}

async function leakUsers(h: Awaited<ReturnType<typeof fixture>>): Promise<string[]> {
  const run = Math.random().toString(36).slice(2, 6)
  return Promise.all(['la', 'lb', 'lc', 'ld'].map(async (name) => (await h.login(`${name}-${run}`)).token))
}

/** `n` authenticated GETs (/me, /items, a missing item) from a few users, 20 at a time. */
async function driveAuthenticated(h: Awaited<ReturnType<typeof fixture>>, tokens: string[], n: number): Promise<void> {
  const calls: Array<[path: string, status: number]> = [['/me', 200], ['/items', 200], ['/items/it_0_missing', 404]]
  let next = 0
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < n) {
        const i = next++
        const [path, status] = calls[i % calls.length]!
        const r = await h.call('GET', path, { token: tokens[i % tokens.length]! })
        if (r.status !== status) throw new Error(`GET ${path}: ${r.status}`)
      }
    })
  )
}

// A planted leak retains ~330-550 bytes per request; the non-leak ~0 once full. Post-GC used
// heap still wanders by ±300 KB between readings (V8's own caches, code), so the windows are
// long enough that this one floor separates the two with room on both sides.
const MIN_LEAK_BYTES_PER_REQUEST = 150
const LEAK_WARM_UP = 1000
const LEAK_REQUESTS = 4000

const leakCounters: Array<{ leak: FixtureLeak; counter: keyof LeakStats; holds: string }> = [
  { leak: 'listener-leak', counter: 'listeners', holds: 'LeakedListenerContext' },
  { leak: 'map-leak', counter: 'mapEntries', holds: 'LeakedRequestRecord' },
  { leak: 'timer-closure-leak', counter: 'timers', holds: 'LeakedTimerJob' }
]

for (const { leak, counter, holds } of leakCounters) {
  test(`${leak}: retains a ${holds} per authenticated request until close()`, async (t) => {
    const h = await fixture(t, { leaks: [leak] })
    const tokens = await leakUsers(h)
    // Not authenticated, so never leaked: probes, logins, missing or unknown tokens.
    await h.call('GET', '/health')
    await h.call('GET', '/stats')
    await h.call('GET', '/me')
    await h.call('GET', '/items', { token: 'f'.repeat(32) })
    await h.call('POST', '/login', { token: tokens[0]!, body: { name: 'la-again' } })
    t.deepEqual(h.f.stats().leaks, NO_LEAKS)

    // Warm up first (JIT code, connection pools), so the window below sees mostly the leak.
    await driveAuthenticated(h, tokens, LEAK_WARM_UP)
    t.deepEqual(h.f.stats().leaks, { ...NO_LEAKS, [counter]: LEAK_WARM_UP })
    const before = await usedHeapAfterGc()
    await driveAuthenticated(h, tokens, LEAK_REQUESTS)
    const after = await usedHeapAfterGc()
    t.deepEqual(h.f.stats().leaks, { ...NO_LEAKS, [counter]: LEAK_WARM_UP + LEAK_REQUESTS })
    const perRequest = (after - before) / LEAK_REQUESTS
    t.log(`${leak}: ${perRequest.toFixed(0)} bytes retained per request`)
    t.true(perRequest >= MIN_LEAK_BYTES_PER_REQUEST, `${perRequest.toFixed(0)} bytes retained per request`)

    // close() drops every leaked object (and clears the timers), the warm-up's too.
    await h.f.close()
    await h.agent.destroy()
    t.deepEqual(h.f.stats().leaks, NO_LEAKS)
    const closed = await usedHeapAfterGc()
    const kept = closed - before
    t.true(kept <= (after - before) * 0.25, `${kept} of ${after - before} bytes still held after close()`)
  })
}

test('bounded-cache: fills to 8000 entries, then stays there with flat memory (not a leak)', async (t) => {
  const h = await fixture(t, { leaks: ['bounded-cache'] })
  const tokens = await leakUsers(h)
  const start = await usedHeapAfterGc()
  await driveAuthenticated(h, tokens, 4000)
  t.deepEqual(h.f.stats().leaks, { ...NO_LEAKS, cacheEntries: 4000 }, 'one entry per request while filling')
  await driveAuthenticated(h, tokens, 5000)
  t.deepEqual(h.f.stats().leaks, { ...NO_LEAKS, cacheEntries: 8000 }, 'capped')
  const full = await usedHeapAfterGc()
  t.true(full - start >= 8000 * MIN_LEAK_BYTES_PER_REQUEST, `filling to 8000 entries took ${full - start} bytes`)

  // Steady state: every request still writes an entry, evicting the oldest.
  const steady = 6000
  await driveAuthenticated(h, tokens, steady)
  t.deepEqual(h.f.stats().leaks, { ...NO_LEAKS, cacheEntries: 8000 })
  const later = await usedHeapAfterGc()
  const perRequest = (later - full) / steady
  t.log(`bounded-cache at the cap: ${perRequest.toFixed(0)} bytes per request`)
  t.true(perRequest < MIN_LEAK_BYTES_PER_REQUEST, `${perRequest.toFixed(0)} bytes per request at the cap`)

  await h.f.close()
  await h.agent.destroy()
  t.deepEqual(h.f.stats().leaks, NO_LEAKS)
  const closed = await usedHeapAfterGc()
  t.true(later - closed >= 8000 * MIN_LEAK_BYTES_PER_REQUEST, `close() released ${later - closed} bytes`)
})

test('child process plants --leak switches, reports their sizes in /stats and still exits 0 on SIGTERM', async (t) => {
  const child = spawnChild(t, ['--port', '0', '--leak', 'listener-leak,map-leak', '--leak', 'timer-closure-leak', '--leak', 'bounded-cache'])
  const exited = once(child, 'exit')
  const { url } = JSON.parse(await firstLine(child.stdout!)) as { url: string }
  const json = async (path: string, init: { method?: Dispatcher.HttpMethod; body?: string; token?: string } = {}) => {
    const headers = init.token ? { authorization: `Bearer ${init.token}` } : {}
    const res = await request(url + path, { method: init.method ?? 'GET', body: init.body, headers })
    return (await res.body.json()) as any // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  const { token } = await json('/login', { method: 'POST', body: '{"name":"kid"}' })
  for (const path of ['/me', '/items', '/me']) await json(path, { token })
  await json('/me')
  t.deepEqual((await json('/stats')).leaks, { listeners: 3, mapEntries: 3, timers: 3, cacheEntries: 3 })
  child.kill('SIGTERM')
  t.deepEqual(await withTimeout(exited), [0, null])
})

// ---------------------------------------------------------------- isolation: planted bugs and the clean fixture

interface DriveResult {
  /** A client received a note that is another user's marker. */
  foreign: Array<{ user: string; saw: string; where: string }>
  /** Status codes of GET /items/:id on a neighbour's item. */
  neighbourStatuses: number[]
  /** Own events received across all sockets. */
  ownEvents: number
}

const marker = (name: string) => `note-of-${name}`

/**
 * ~200 users at once, as a real load test would: log in with a marker note, create items,
 * read /me and /items concurrently and probe a neighbour's item; the first `socketUsers` also
 * hold an /events socket. Reports every time a client sees another user's marker.
 */
async function drive(h: Awaited<ReturnType<typeof fixture>>, users = 200, socketUsers = 50): Promise<DriveResult> {
  const { call, login, socket } = h
  const run = Math.random().toString(36).slice(2, 6)
  const names = Array.from({ length: users }, (_, i) => `u${i}-${run}`)
  const foreign: DriveResult['foreign'] = []
  const see = (user: string, note: unknown, where: string) => {
    if (typeof note === 'string' && note !== marker(user) && note.startsWith('note-of-')) foreign.push({ user, saw: note, where })
  }
  const expect = (r: Reply, statuses: number[], what: string) => {
    if (!statuses.includes(r.status)) throw new Error(`${what}: unexpected ${r.status} ${JSON.stringify(r.body)}`)
    return r
  }

  const sessions = await Promise.all(names.map((name) => login(name, marker(name))))
  const sockets = await Promise.all(sessions.slice(0, socketUsers).map((s) => socket(s.token)))
  let ownEvents = 0
  sockets.forEach((ws, i) =>
    ws.on('message', (data) => {
      const m = JSON.parse((data as Buffer).toString())
      if (m.type !== 'event') return
      if (m.owner === names[i]) ownEvents++
      see(names[i]!, m.data.note, '/events')
    })
  )

  const itemIds = await Promise.all(
    sessions.map(async (s, i) => {
      const created = await Promise.all(
        [1, 2].map(() => call('POST', '/items', { token: s.token, body: { note: marker(names[i]!), value: i } }))
      )
      return created.map((r) => expect(r, [201], 'POST /items').body.id as string)
    })
  )

  for (let round = 0; round < 3; round++) {
    await Promise.all(
      sessions.flatMap((s, i) => [
        call('GET', '/me', { token: s.token }).then((r) => see(names[i]!, expect(r, [200], 'GET /me').body.note, '/me')),
        call('GET', '/items', { token: s.token }).then((r) => {
          for (const item of expect(r, [200], 'GET /items').body.items) see(names[i]!, item.note, '/items')
        })
      ])
    )
  }

  const neighbourStatuses = await Promise.all(
    sessions.map(async (s, i) => {
      const r = await call('GET', `/items/${itemIds[(i + 1) % users]![0]}`, { token: s.token })
      if (expect(r, [200, 403], 'GET /items/:id').status === 200) see(names[i]!, r.body.note, '/items/:id')
      return r.status
    })
  )

  // At 20 events/s every socket passes seq 10 (the broadcast point) within ~0.5 s.
  await delay(700)
  return { foreign, neighbourStatuses, ownEvents }
}

const leakCases: Array<{ bug: string; options: FixtureOptions }> = [
  { bug: 'legacy-mode', options: { mode: 'legacy' } },
  ...ISOLATION_BUGS.map((bug) => ({ bug, options: { bugs: [bug] } })),
]

for (const { bug, options } of leakCases) {
  test(`${bug}: leaks under concurrency and the fixture records it`, async (t) => {
    const h = await fixture(t, { ...options, eventsPerSecond: 20 })
    const result = await drive(h)
    const { crossUser } = h.f.stats()
    t.true(crossUser.total > 0)
    t.deepEqual(Object.keys(crossUser.byBug), [bug], 'leaks are attributed to the planted bug only')
    t.true(crossUser.entries.length > 0 && crossUser.entries.length <= 500)
    for (const e of crossUser.entries) {
      t.is(e.bug, bug)
      t.not(e.servedTo, e.owner)
    }
    t.true(result.foreign.length > 0, 'some client really received another user\'s note')
    // Bugs that misattribute POST /items may make a "neighbour's" item one's own; these do not.
    if (bug === 'idor') t.true(result.neighbourStatuses.every((s) => s === 200))
    if (bug === 'shared-cache' || bug === 'ws-broadcast') t.true(result.neighbourStatuses.every((s) => s === 403))
  })
}

test('clean fixture (context mode, no bugs) never serves one user\'s data to another', async (t) => {
  const h = await fixture(t, { eventsPerSecond: 20 })
  const result = await drive(h, 300, 300)
  t.deepEqual(result.foreign, [])
  t.true(result.neighbourStatuses.every((s) => s === 403))
  t.true(result.ownEvents >= 300 * 10, `own events ${result.ownEvents}`)
  const stats = h.f.stats()
  t.deepEqual(stats.crossUser, { total: 0, byBug: {}, entries: [] })
  t.is(stats.users, 300)
  t.is(stats.peakOpenWebSockets, 300)
})

// ---------------------------------------------------------------- event streams: end, faults, topics, total rate

interface SeqRange {
  first: number
  last: number
}

interface EndReply {
  type: 'end'
  streams: Record<string, SeqRange>
}

/** One user's open /events socket and every frame it has received. */
interface Client {
  ws: WebSocket
  got: any[] // eslint-disable-line @typescript-eslint/no-explicit-any
  id: string
  name: string
}

async function openClients(h: Awaited<ReturnType<typeof fixture>>, n: number): Promise<Client[]> {
  const run = Math.random().toString(36).slice(2, 6)
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const name = `s${i}-${run}`
      const { token, id } = await h.login(name, marker(name))
      const ws = await h.socket(token)
      return { ws, got: messages(ws), id, name }
    })
  )
}

/** Sends `end` on every socket and waits for every reply. */
async function endAll(clients: Client[]): Promise<EndReply[]> {
  for (const c of clients) c.ws.send(JSON.stringify({ type: 'end' }))
  await until(() => clients.every((c) => c.got.some((m) => m.type === 'end')), 10_000)
  return clients.map((c) => c.got.find((m) => m.type === 'end') as EndReply)
}

/** After `end`, nothing but replies to the client's own messages: no event of any stream. */
async function assertQuietAfterEnd(t: ExecutionContext, clients: Client[]): Promise<void> {
  await delay(200)
  for (const c of clients) {
    const at = c.got.findIndex((m) => m.type === 'end')
    t.deepEqual(c.got.slice(at + 1).filter((m) => m.type === 'event'), [], `${c.name} got events after end`)
  }
}

/** What a client can tell about one stream from the frames it received and the end reply's range. */
interface ClientView {
  frames: number
  /** Seqs in first..last never received. */
  missing: number[]
  /** Seqs received again (one entry per extra copy). */
  duplicates: number[]
  /** Seqs first received after a higher one. */
  late: number[]
  /** Seqs received outside first..last. */
  outside: number[]
  /** The highest seq received. */
  max: number
}

function clientView(got: any[], streamId: string, range: SeqRange): ClientView { // eslint-disable-line @typescript-eslint/no-explicit-any
  const seen = new Set<number>()
  const v: ClientView = { frames: 0, missing: [], duplicates: [], late: [], outside: [], max: 0 }
  for (const m of got) {
    if (m.type !== 'event' || m.stream !== streamId) continue
    v.frames++
    if (m.seq < range.first || m.seq > range.last) v.outside.push(m.seq)
    if (seen.has(m.seq)) {
      v.duplicates.push(m.seq)
      continue
    }
    if (m.seq < v.max) v.late.push(m.seq)
    seen.add(m.seq)
    v.max = Math.max(v.max, m.seq)
  }
  for (let s = range.first; s <= range.last; s++) if (!seen.has(s)) v.missing.push(s)
  return v
}

const multiplesUpTo = (every: number, last: number) => Array.from({ length: Math.floor(last / every) }, (_, i) => (i + 1) * every)

const eventFrames = (c: Client) => c.got.filter((m) => m.type === 'event')

test('clean streams: after end each client got exactly 1..last in order, and no fault is counted', async (t) => {
  const h = await fixture(t, { eventsPerSecond: 200 })
  const clients = await openClients(h, 3)
  await delay(1000)
  const replies = await endAll(clients)
  await assertQuietAfterEnd(t, clients)
  let assigned = 0
  for (const [i, c] of clients.entries()) {
    const reply = replies[i]!
    t.deepEqual(Object.keys(reply), ['type', 'streams'])
    t.deepEqual(Object.keys(reply.streams), [c.id])
    const { first, last } = reply.streams[c.id]!
    t.is(first, 1)
    t.true(last >= 50, `last ${last} after ~1 s at 200/s`)
    const events = eventFrames(c)
    t.deepEqual(events.map((e) => e.seq), Array.from({ length: last }, (_, k) => k + 1))
    for (const e of events) t.like(e, { type: 'event', stream: c.id, owner: c.name, data: { note: marker(c.name) } })
    assigned += last
  }
  const s = h.f.stats()
  t.deepEqual(s.events, { sent: assigned, assigned, topicSent: 0, dropped: 0, duplicated: 0, reordered: 0, shed: 0 })
  t.is(s.eventsSent, s.events.sent)
})

test('end with no events replies with no streams; echo still works after end; end again gives the same reply', async (t) => {
  const h = await fixture(t, { eventsPerSecond: 0, topicEventsPerSecond: 50 })
  const [c] = await openClients(h, 1)
  const [reply] = await endAll([c!])
  t.deepEqual(reply, { type: 'end', streams: {} })
  c!.ws.send(JSON.stringify({ type: 'subscribe', topic: 'late' })) // ignored after end
  c!.ws.send(JSON.stringify({ type: 'echo', id: 1 }))
  await until(() => c!.got.some((m) => m.type === 'echo'))
  t.deepEqual(c!.got.find((m) => m.type === 'echo'), { type: 'echo', user: c!.name, id: 1 })
  c!.ws.send(JSON.stringify({ type: 'end' }))
  await until(() => c!.got.filter((m) => m.type === 'end').length === 2)
  t.deepEqual(c!.got.filter((m) => m.type === 'end')[1], { type: 'end', streams: {} })
  await assertQuietAfterEnd(t, [c!])
  t.is(h.f.stats().events.sent, 0)
})

/** Each fault: which seqs of 1..last a client must see missing, duplicated and late. */
const faultCases: Array<{
  bug: 'drop-events' | 'dup-events' | 'reorder-events'
  counter: 'dropped' | 'duplicated' | 'reordered'
  expect: (last: number) => { missing: number[]; duplicates: number[]; late: number[] }
}> = [
  { bug: 'drop-events', counter: 'dropped', expect: (last) => ({ missing: multiplesUpTo(7, last), duplicates: [], late: [] }) },
  { bug: 'dup-events', counter: 'duplicated', expect: (last) => ({ missing: [], duplicates: multiplesUpTo(5, last), late: [] }) },
  {
    bug: 'reorder-events',
    counter: 'reordered',
    // A held event still held at `end` is flushed in order: not late.
    expect: (last) => ({ missing: [], duplicates: [], late: multiplesUpTo(6, last).filter((s) => s < last) })
  }
]

for (const { bug, counter, expect } of faultCases) {
  test(`${bug}: what the clients see equals the fixture's exact counts`, async (t) => {
    const h = await fixture(t, { bugs: [bug], eventsPerSecond: 200 })
    const clients = await openClients(h, 3)
    await delay(1000)
    const replies = await endAll(clients)
    await assertQuietAfterEnd(t, clients)
    const total = { frames: 0, assigned: 0, missing: 0, duplicates: 0, late: 0 }
    for (const [i, c] of clients.entries()) {
      const reply = replies[i]!
      t.deepEqual(Object.keys(reply.streams), [c.id])
      const range = reply.streams[c.id]!
      t.is(range.first, 1)
      t.true(range.last >= 50, `last ${range.last}`)
      const view = clientView(c.got, c.id, range)
      const want = expect(range.last)
      t.deepEqual(view.missing, want.missing, `${c.name} missing`)
      t.deepEqual(view.duplicates, want.duplicates, `${c.name} duplicates`)
      t.deepEqual(view.late, want.late, `${c.name} late`)
      t.deepEqual(view.outside, [])
      // The last assigned seq was received, unless it was the one dropped.
      t.is(view.max, bug === 'drop-events' && range.last % 7 === 0 ? range.last - 1 : range.last)
      const seqs = eventFrames(c).map((e) => e.seq as number)
      for (const s of view.duplicates) t.is(seqs[seqs.indexOf(s) + 1], s, `copies of ${s} arrive back to back`)
      for (const s of view.late) t.is(seqs[seqs.indexOf(s) - 1], s + 1, `${s} arrives right after ${s + 1}`)
      total.frames += view.frames
      total.assigned += range.last
      total.missing += view.missing.length
      total.duplicates += view.duplicates.length
      total.late += view.late.length
    }
    const events = h.f.stats().events
    t.true(events[counter] > 0, `${counter} counted`)
    t.deepEqual(events, {
      sent: total.frames,
      assigned: total.assigned,
      topicSent: 0,
      dropped: total.missing,
      duplicated: total.duplicates,
      reordered: total.late,
      shed: 0
    })
  })
}

test('slow-consumer: events due for a socket over 64 KiB buffered are shed, and counted exactly', async (t) => {
  const h = await fixture(t, { bugs: ['slow-consumer'], eventsPerSecond: 200, eventPayloadBytes: 64 * 1024 })
  const [slow, reader] = await openClients(h, 2)
  // Stop reading: the kernel buffers fill, then the server's own buffer passes 64 KiB.
  const raw = (slow!.ws as unknown as { _socket: Socket })._socket
  raw.pause()
  await until(() => h.f.stats().events.shed >= 10, 8000)
  raw.resume()
  await delay(200)
  const replies = await endAll([slow!, reader!])
  await assertQuietAfterEnd(t, [slow!, reader!])
  const total = { frames: 0, assigned: 0, missing: 0 }
  const views = [slow!, reader!].map((c, i) => {
    const range = replies[i]!.streams[c.id]!
    t.is(range.first, 1)
    const view = clientView(c.got, c.id, range)
    t.deepEqual([view.duplicates, view.late, view.outside], [[], [], []])
    total.frames += view.frames
    total.assigned += range.last
    total.missing += view.missing.length
    return view
  })
  t.true(views[0]!.missing.length > 0, 'the paused socket missed events')
  t.is(eventFrames(slow!)[0].data.pad.length, 64 * 1024)
  const events = h.f.stats().events
  t.deepEqual(events, {
    sent: total.frames,
    assigned: total.assigned,
    topicSent: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    shed: total.missing
  })
})

test('topics: subscribers share one seq counter, others get nothing, end lists the topic stream', async (t) => {
  const h = await fixture(t, { eventsPerSecond: 20, topicEventsPerSecond: 20 })
  const [a, b, c, d, e] = (await openClients(h, 5)) as [Client, Client, Client, Client, Client]
  const send = (x: Client, m: unknown) => x.ws.send(JSON.stringify(m))
  const topicFrames = (x: Client) => x.got.filter((m) => m.type === 'event' && m.stream === 'topic:news')
  send(a, { type: 'subscribe', topic: 'news' })
  send(b, { type: 'subscribe', topic: 'news' })
  send(b, { type: 'subscribe', topic: 'news' }) // once is enough
  send(e, { type: 'subscribe', topic: 'news' })
  for (const topic of ['NEWS', 'x'.repeat(65), '', 'a b', 7]) send(d, { type: 'subscribe', topic }) // ignored
  send(d, { type: 'unsubscribe', topic: 'news' }) // not subscribed: ignored
  await until(() => topicFrames(e).length >= 3)
  send(e, { type: 'unsubscribe', topic: 'news' })
  await delay(300)
  send(c, { type: 'subscribe', topic: 'news' }) // late: starts at the current seq
  await until(() => topicFrames(c).length >= 10)
  const replies = await endAll([a, b, c, d, e])
  await assertQuietAfterEnd(t, [a, b, c, d, e])

  const ranges = new Map<Client, SeqRange>()
  for (const [i, x] of [a, b, c, d, e].entries()) {
    const reply = replies[i]!
    const own = clientView(x.got, x.id, reply.streams[x.id]!)
    t.deepEqual([own.missing, own.duplicates, own.late, own.outside], [[], [], [], []], `${x.name} own stream`)
    if (x === d) {
      t.deepEqual(Object.keys(reply.streams), [d.id])
      t.deepEqual(topicFrames(d), [])
      continue
    }
    t.deepEqual(Object.keys(reply.streams), [x.id, 'topic:news'])
    const range = reply.streams['topic:news']!
    const seqs = topicFrames(x).map((m) => m.seq as number)
    t.deepEqual(seqs, Array.from({ length: range.last - range.first + 1 }, (_, k) => range.first + k), `${x.name} topic seqs`)
    ranges.set(x, range)
    for (const m of topicFrames(x)) {
      t.deepEqual(Object.keys(m).sort(), ['data', 'seq', 'stream', 't', 'topic', 'type'])
      t.like(m, { type: 'event', stream: 'topic:news', topic: 'news', data: { topic: 'news' } })
    }
  }
  t.is(ranges.get(a)!.first, 1, 'the first subscriber gets the first event')
  t.true(ranges.get(c)!.first > ranges.get(e)!.last, 'the late subscriber starts at the current seq')
  t.true(ranges.get(e)!.last < ranges.get(a)!.last, 'an unsubscribed socket gets no more')
  // Where they overlap, subscribers got the very same events: same seqs, same send times.
  const lo = Math.max(ranges.get(a)!.first, ranges.get(b)!.first, ranges.get(c)!.first)
  const hi = Math.min(ranges.get(a)!.last, ranges.get(b)!.last, ranges.get(c)!.last)
  t.true(hi - lo >= 5, `overlap ${lo}..${hi}`)
  const timesOf = (x: Client) =>
    topicFrames(x).filter((m) => m.seq >= lo && m.seq <= hi).map((m) => `${m.seq}@${m.t}`)
  t.deepEqual(timesOf(b), timesOf(a))
  t.deepEqual(timesOf(c), timesOf(a))

  const all = [a, b, c, d, e]
  const topicSent = all.reduce((n, x) => n + topicFrames(x).length, 0)
  const sent = all.reduce((n, x) => n + eventFrames(x).length, 0)
  const events = h.f.stats().events
  t.like(events, { sent, topicSent, dropped: 0, duplicated: 0, reordered: 0, shed: 0 })
  t.is(events.assigned, all.reduce((n, x, i) => n + replies[i]!.streams[x.id]!.last, 0))
})

test('eventRate spreads a total rate over the open sockets, recomputed as they come and go', async (t) => {
  const h = await fixture(t, { eventRate: 2000, eventsPerSecond: 1 })
  const { token } = await h.login('rate')
  const sockets = await Promise.all(Array.from({ length: 100 }, () => h.socket(token)))
  const counts = sockets.map(() => 0)
  sockets.forEach((ws, i) =>
    ws.on('message', (data) => {
      if (JSON.parse((data as Buffer).toString()).type === 'event') counts[i]!++
    })
  )
  const window = async (from: number, to: number) => {
    const before = counts.slice(from, to)
    const start = performance.now()
    await delay(1000)
    const seconds = (performance.now() - start) / 1000
    return counts.slice(from, to).map((n, i) => (n - before[i]!) / seconds)
  }
  await delay(200)
  const all = await window(0, 100)
  const total = all.reduce((a, b) => a + b, 0)
  t.true(total >= 1000 && total <= 3000, `${total} events/s over 100 sockets`)
  t.true(all.every((r) => r >= 5 && r <= 60), `per-socket rates ${Math.min(...all)}..${Math.max(...all)}`)

  // Half the sockets end: the other half now share the whole rate.
  for (const ws of sockets.slice(50)) ws.send(JSON.stringify({ type: 'end' }))
  await delay(200)
  const half = await window(0, 50)
  const halfTotal = half.reduce((a, b) => a + b, 0)
  t.true(halfTotal >= 1000 && halfTotal <= 3000, `${halfTotal} events/s over 50 sockets`)
  t.true(halfTotal / 50 > (total / 100) * 1.4, `per socket ${halfTotal / 50}/s after, ${total / 100}/s before`)
})
