// Socket.IO users (`user.io()` on socket.io-client): against a Socket.IO chat server written
// here that knows nothing of crosstalk (its "private" replies go to the sender's room, or, with
// the room bug of socket.io#3431, to everyone), and against the fixture's Socket.IO endpoint for
// a long run whose pings must be answered.
import test from 'ava'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { run, METRICS, type RunResult } from '../engine/index.js'
import { fixture, tempDir, writeScenario } from './support.js'

interface ChatServer { url: string, received: Map<string, number>, close: () => Promise<void> }

/** A chat server: `private` is acked and answered with `reply` to the sender's room (to all with `roomBug`). */
async function chatServer (roomBug: boolean): Promise<ChatServer> {
  const http = createServer()
  const io = new Server(http, { serveClient: false })
  const received = new Map<string, number>()
  io.on('connection', (socket) => {
    const user = String(socket.handshake.auth.user)
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
    close: async () => { await io.close() }
  }
}

const CHAT_SCENARIO = `export default defineScenario({
  name: 'io-chat',
  async setup (user) {
    user.state.io = await user.io('/', { auth: { user: user.name } })
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

// Socket.IO drops a client that leaves a ping unanswered for pingInterval + pingTimeout (45 s by
// default): at 2 s + 4 s, 15 s of load crosses that bound twice over
test('1000 Socket.IO users for 15 s with a ping every 2 s: no socket dropped, every event the server sent received, acks timed', async t => {
  const f = await fixture(t, { eventsPerSecond: 1, ioPingMs: 2000 })
  const file = writeScenario(tempDir(t), 'io-fixture.mjs', FIXTURE_SCENARIO)
  const r = await run({ scenario: file, target: f.url, users: 1000, duration: '15s', workers: 2, out: null, teardownTimeout: '20s' })
  t.is(r.status, 'passed', r.failures.join('; '))
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
