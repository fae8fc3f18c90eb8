// Socket.IO users (`user.io()` on socket.io-client): against a Socket.IO chat server written
// here that knows nothing of crosstalk (its "private" replies go to the sender's room, or, with
// the room bug of socket.io#3431, to everyone), and against the fixture's Socket.IO endpoint for
// a long run whose pings must be answered.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { WebSocket } from 'ws'
import { run, METRICS, type RunResult } from '../engine/index.js'
import { loadIoClient } from '../engine/streams/io-socket.js'
import { fixture, tempDir, writeScenario } from './support.js'

interface ChatServer {
  url: string
  received: Map<string, number>
  /** handshakes whose cookie and x-trace header named the user of their auth payload */
  handshakes: { matched: number, other: number }
  /** Engine.IO connections (transports) made, and the most open at once */
  engines: { made: number, peak: number }
  close: () => Promise<void>
}

/**
 * A chat server: `private` is acked and answered with `reply` to the sender's room (to all with
 * `roomBug`). GET /login?user=<name> sets the cookie `sid=<name>`.
 */
async function chatServer (roomBug: boolean): Promise<ChatServer> {
  const http = createServer((req, res) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user') ?? ''
    res.writeHead(200, { 'set-cookie': `sid=${user}; Path=/`, 'content-type': 'application/json' }).end('{}')
  })
  const io = new Server(http, { serveClient: false })
  const received = new Map<string, number>()
  const handshakes = { matched: 0, other: 0 }
  const engines = { made: 0, peak: 0 }
  io.engine.on('connection', () => {
    engines.made++
    engines.peak = Math.max(engines.peak, io.engine.clientsCount)
  })
  io.on('connection', (socket) => {
    const user = String(socket.handshake.auth.user)
    const h = socket.handshake.headers
    if (h.cookie === `sid=${user}` && h['x-trace'] === user) handshakes.matched++
    else handshakes.other++
    void socket.join(user)
    socket.onAny((event: string) => received.set(event, (received.get(event) ?? 0) + 1))
    socket.on('private', async (text: string, ack: (r: unknown) => void) => {
      ack({ ok: true })
      await new Promise(resolve => setImmediate(resolve)) // the await after which the room was lost
      if (roomBug) io.emit('reply', { to: user, text })
      else io.to(user).emit('reply', { to: user, text })
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    received,
    handshakes,
    engines,
    close: async () => { await io.close() }
  }
}

const CHAT_SCENARIO = `export default defineScenario({
  name: 'io-chat',
  async setup (user) {
    await user.http.get('/login?user=' + user.name) // the cookie sid=<name>, sent with the handshake
    user.state.io = await user.io('/', { auth: { user: user.name }, headers: { 'x-trace': user.name } })
  },
  async iteration (user) {
    const mine = user.canary('msg')
    const ack = await user.state.io.emitWithAck('private', mine)
    user.check(ack.ok === true, 'acked')
    const reply = await user.state.io.waitFor('reply', e => e.data.to === user.name)
    user.check(reply.data.text === mine, 'own reply')
    await user.sleep(50)
  }
})`

async function chatRun (t: Parameters<typeof tempDir>[0] & { teardown: (fn: () => Promise<void>) => void }, roomBug: boolean): Promise<{ r: RunResult, s: ChatServer }> {
  const s = await chatServer(roomBug)
  t.teardown(() => s.close())
  const file = writeScenario(tempDir(t), 'io-chat.mjs', CHAT_SCENARIO)
  const r = await run({ scenario: file, target: s.url, users: 100, duration: '2s', workers: 2, out: null })
  return { r, s }
}

test('Socket.IO users on a chat server: acks timed per event, every event counted, the clean server yields no violation', async t => {
  const { r, s } = await chatRun(t, false)
  t.is(r.status, 'passed', r.failures.join('; '))
  t.is(r.isolation.violations, 0)
  const sent = s.received.get('private') ?? 0
  t.true(sent >= 100 * 5, `${sent} events`)
  t.like(r.metrics[`${METRICS.ioEventsSent}{event:private}`], { count: sent })
  t.like(r.metrics[`${METRICS.ioAckDuration}{event:private}`], { count: sent })
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:reply}`], { count: sent })
  t.like(r.metrics[METRICS.ioSessions], { count: 100 })
  t.deepEqual([...s.received.keys()], ['private'], 'nothing but what the scenario emitted')
  t.deepEqual(s.handshakes, { matched: 100, other: 0 }, 'each handshake carried its own user\'s cookie and header')
  t.deepEqual(s.engines, { made: 100, peak: 100 }, 'one Engine.IO connection per user, never shared')
})

test('the room bug (an emit to everyone after an await) is found as foreign events, owner and victim named', async t => {
  const { r } = await chatRun(t, true)
  t.is(r.status, 'failed')
  t.true((r.isolation.byKind['foreign-event'] ?? 0) > 0, JSON.stringify(r.isolation))
  const sample = r.isolation.samples[0]!
  t.is(sample.kind, 'foreign-event')
  t.not(sample.user, sample.owner)
  t.regex(sample.where.channel ?? '', /^socket\.io\/ reply$/)
})

const FIXTURE_SCENARIO = `export default defineScenario({
  name: 'io-fixture',
  async setup (user) {
    const res = await user.http.post('/login', { json: { name: user.name, note: user.canary('note') } })
    user.state.io = await user.io('/', { auth: { token: res.json().token }, inbox: 0, events: { event: { stream: e => e.data.stream, seq: e => e.data.seq, sentAt: e => e.data.t, clock: 'monotonic-us' } } })
  },
  async iteration (user) {
    await user.state.io.emitWithAck('echo', user.name)
    await user.sleep(1000)
  },
  async teardown (user) {
    // the server stops this user's events and acks after the last one: every event sent has arrived
    await user.state.io.emitWithAck('stop')
    await user.state.io.close()
  }
})`

/**
 * A raw Engine.IO 4 client on a WebSocket that reads the server's open packet and never answers
 * a ping (`2`): the server must close it after pingInterval + pingTimeout.
 */
function silentEngineClient (url: string): { ws: WebSocket, opened: Promise<Record<string, unknown>>, closedAt: number | undefined } {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`)
  const start = performance.now()
  const client = { ws, opened: Promise.resolve({}), closedAt: undefined as number | undefined }
  client.opened = new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => {
      const text = data.toString()
      if (text.startsWith('0')) resolve(JSON.parse(text.slice(1)) as Record<string, unknown>)
      else reject(new Error(`not an Engine.IO open packet: ${text}`))
    })
    ws.once('error', reject)
  })
  ws.once('close', () => { client.closedAt = performance.now() - start })
  return client
}

// Serial (ava runs it before the others, alone): the 4 s pong window is the client's to meet, and
// the other tests' users would compete for the same 2 cores.
// Socket.IO drops a client that leaves a ping unanswered for pingInterval + pingTimeout (45 s by
// default): at 2 s + 4 s, 15 s of load crosses that bound twice over
test.serial('1000 Socket.IO users for 15 s with a ping every 2 s: no socket dropped, every event the server sent received, acks timed', async t => {
  const f = await fixture(t, { eventsPerSecond: 1, ioPingMs: 2000 })
  const file = writeScenario(tempDir(t), 'io-fixture.mjs', FIXTURE_SCENARIO)
  // the control: an Engine.IO client that never answers a ping, alongside the load
  const silent = silentEngineClient(f.url)
  t.teardown(() => silent.ws.terminate())
  const r = await run({ scenario: file, target: f.url, users: 1000, duration: '15s', workers: 2, out: null, teardownTimeout: '20s' })
  t.is(r.status, 'passed', `${r.failures.join('; ')} ${JSON.stringify(r.errors.groups)} ${JSON.stringify(f.stats().io.disconnects)}`)
  // the short bound was in force: the server announced it, and dropped the silent client during the load
  const open = await silent.opened
  t.like(open, { pingInterval: 2000, pingTimeout: 4000 })
  t.true(silent.closedAt !== undefined && silent.closedAt < r.loadDurationMs, `silent client closed after ${silent.closedAt} ms`)
  const io = f.stats().io
  t.is(io.connections, 1000)
  t.is(io.peakOpenSockets, 1000)
  t.deepEqual(io.disconnects, { 'client namespace disconnect': 1000 }, 'no socket dropped by the server')
  t.like(r.metrics[`${METRICS.ioDisconnects}{reason:io client disconnect}`], { count: 1000 })
  t.true(io.eventsSent > 1000 * 10, `${io.eventsSent} events`)
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:event}`], { count: io.eventsSent })
  t.like(r.events, { received: io.eventsSent, lost: 0, duplicated: 0, reordered: 0 })
  t.like(r.metrics[`${METRICS.ioAckDuration}{event:echo}`], { count: io.eventsReceived.echo })
  t.is(r.isolation.violations, 0)
})

test('the fixture\'s broadcast bug on Socket.IO is found with a victim/owner pair the fixture confirms', async t => {
  const f = await fixture(t, { eventsPerSecond: 5, bugs: ['ws-broadcast'] })
  const file = writeScenario(tempDir(t), 'io-fixture.mjs', FIXTURE_SCENARIO)
  const r = await run({ scenario: file, target: f.url, users: 100, duration: '3s', workers: 2, out: null })
  t.true((r.isolation.byKind['foreign-event'] ?? 0) > 0, JSON.stringify(r.isolation))
  const sample = r.isolation.samples.find(v => v.kind === 'foreign-event')!
  t.regex(sample.where.channel ?? '', /^socket\.io\/ event$/)
  // user-<id> is the engine's name and the fixture's login name alike
  t.true(f.servedCrossUser(sample.user, sample.owner), `${sample.owner} -> ${sample.user} confirmed by the fixture`)
  t.is(r.status, 'failed')
})

/**
 * A server whose `tick` payload is a string where scenarios expect an object, followed by
 * `ready`; `slow` is acked after 1.5 s. It records the arguments each `slow` arrived with.
 */
async function quirkServer (): Promise<{ url: string, slowArgs: unknown[][], close: () => Promise<void> }> {
  const http = createServer()
  const io = new Server(http, { serveClient: false })
  const slowArgs: unknown[][] = []
  const timers = new Set<NodeJS.Timeout>()
  io.on('connection', (socket) => {
    socket.emit('tick', 'not an object')
    socket.emit('ready')
    socket.on('slow', (...args: unknown[]) => {
      const ack = args.pop() as (r: unknown) => void
      slowArgs.push(args)
      const timer = setTimeout(() => { timers.delete(timer); ack('late') }, 1500)
      timers.add(timer)
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    slowArgs,
    close: async () => { for (const t of timers) clearTimeout(t); await io.close() }
  }
}

test('Socket.IO: an ack slower than emitWithAck\'s { timeout } is counted, a throwing predicate or extractor is one error each, a .catch() on waitFor catches', async t => {
  const s = await quirkServer()
  t.teardown(() => s.close())
  const file = writeScenario(tempDir(t), 'io-quirks.mjs', `export default defineScenario({
    name: 'io-quirks',
    async setup (user) {
      user.state.io = await user.io('/', { timeout: 10000, events: user.id === 0 ? { tick: { seq: e => e.data.n.x } } : undefined })
    },
    async iteration (user) {
      const io = user.state.io
      if (user.iterations === 0) {
        await io.next('ready') // the tick came first: it is queued now
        let caught
        io.waitFor('tick', e => e.data.n.x > 0).catch(err => { caught = err }) // throws on the queued tick: still a promise
        await user.sleep(0)
        user.check(caught instanceof TypeError, 'caught without await')
        await io.emitWithAck('slow', user.name, { timeout: 300 })
      }
      if (user.iterations === 1) await io.waitFor('tick', e => e.data.n.x > 0)
      await user.sleep(50)
    }
  })`)
  const r = await run({ scenario: file, target: s.url, users: 10, duration: '2s', workers: 2, out: null })
  const groups = JSON.stringify(r.errors.groups)
  t.is(r.users.lost, 0, groups)
  t.is(r.users.completed, 10, JSON.stringify(r.users) + groups)
  t.false(r.errors.groups.some(g => g.code === 'CT_ERR_WORKER'), groups)
  // emitted on connection, in the connect's own turn: none lost before user.io() resolved
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:tick}`], { count: 10 })
  t.like(r.metrics[`${METRICS.ioEventsReceived}{event:ready}`], { count: 10 })
  t.like(r.metrics['checks{check:caught without await}'], { passes: 10, fails: 0 })
  // the ack timed out at the given 300 ms, not the socket's 10 s; `{ timeout }` was not sent
  const acks = r.errors.groups.filter(g => g.code === 'CT_ERR_TIMEOUT')
  t.is(acks.reduce((n, g) => n + g.count, 0), 10, groups)
  t.true(acks.every(g => /no ack for 'slow' within 300 ms/.test(g.message)), groups)
  t.like(r.metrics[METRICS.ioErrors], { count: 10 })
  t.is(s.slowArgs.length, 10)
  t.true(s.slowArgs.every(a => a.length === 1 && typeof a[0] === 'string'), JSON.stringify(s.slowArgs))
  // 10 predicates and one extractor threw: each one counted error at the scenario's line
  const thrown = r.errors.groups.filter(g => g.phase === 'iteration' && /Cannot read properties of undefined/.test(g.message))
  t.is(thrown.reduce((n, g) => n + g.count, 0), 11, groups)
  t.deepEqual(thrown.map(g => /io-quirks\.mjs:(\d+):\d+$/.exec(g.at ?? '')?.[1]).sort(), ['17', '5'], groups)
  t.is(r.status, 'failed')
})

test('user.io() without socket.io-client fails with CT_ERR_DEPENDENCY, and finds the package once it is there', async t => {
  await t.throwsAsync(loadIoClient('socket.io-client-not-installed'), {
    code: 'CT_ERR_DEPENDENCY',
    message: /user\.io\(\) needs socket\.io-client-not-installed: npm install socket\.io-client-not-installed/
  })
  t.is(typeof await loadIoClient(), 'function')
})

test('README\'s Socket.IO scenario runs as written against the fixture: clean, then the broadcast bug found', async t => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const block = /```js\nimport \{ defineScenario \} from 'crosstalk'\n\n(export default defineScenario\(\{\n {2}name: 'io-notes',[^]*?)```/.exec(readme)?.[1]
  if (block === undefined) return t.fail('README has no io-notes scenario')
  const file = writeScenario(tempDir(t), 'io-notes.mjs', block)
  const clean = await fixture(t, { eventsPerSecond: 5 })
  const r = await run({ scenario: file, target: clean.url, users: 20, duration: '2s', workers: 2, out: null })
  t.is(r.status, 'passed', `${r.failures.join('; ')} ${JSON.stringify(r.errors.groups)}`)
  t.like(r.metrics['checks{check:echoed}'], { fails: 0 })
  t.true((r.metrics['checks{check:own event}'] as { passes: number }).passes >= 20)
  const buggy = await fixture(t, { eventsPerSecond: 5, bugs: ['ws-broadcast'] })
  const b = await run({ scenario: file, target: buggy.url, users: 20, duration: '2s', workers: 2, out: null })
  t.true((b.isolation.byKind['foreign-event'] ?? 0) > 0, JSON.stringify(b.isolation))
})
