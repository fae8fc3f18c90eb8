// Event streams from a server that knows nothing of crosstalk: a `ws` chat server written here,
// which answers `say` requests, pushes its own event streams (seq + Date.now(), with planted
// gaps, duplicates and reordering it counts exactly) and counts every frame it receives.
import test from 'ava'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { run, METRICS } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

interface ChatServer {
  url: string
  /** frames received, by their `type` (or `text` when not JSON) */
  received: Map<string, number>
  /** what the server planted in the event streams it pushed */
  planted: { sent: number, lost: number, duplicated: number, reordered: number }
  sockets: number
  close: () => Promise<void>
}

/** Per socket: GROUPS groups of 30 events pushed at once, right after connect; every decade loses its 3rd, doubles its 5th, swaps its 7th and 8th. */
const GROUPS = 2

async function chatServer (options: { textEvents?: boolean } = {}): Promise<ChatServer> {
  const received = new Map<string, number>()
  const planted = { sent: 0, lost: 0, duplicated: 0, reordered: 0 }
  const http: Server = createServer((_req, res) => { res.writeHead(404).end() })
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false })
  const server: ChatServer = { url: '', received, planted, sockets: 0, close: async () => {} }
  wss.on('connection', (ws: WebSocket) => {
    server.sockets++
    const room = `room-${server.sockets}`
    ws.on('message', (data: Buffer) => {
      let type = 'text'
      let msg: { type?: string, id?: number } = {}
      try { msg = JSON.parse(data.toString()) as typeof msg; type = msg.type ?? 'json' } catch { /* plain text */ }
      received.set(type, (received.get(type) ?? 0) + 1)
      if (msg.type === 'say') ws.send(JSON.stringify({ type: 'said', id: msg.id }))
    })
    if (options.textEvents === true) {
      ws.send('plain text, not JSON')
      return
    }
    let group = 0
    const pushGroup = (): void => {
      const send = (seq: number): void => { ws.send(JSON.stringify({ type: 'event', room, n: seq, at: Date.now() })); planted.sent++ }
      for (let seq = group * 30 + 1; seq <= (group + 1) * 30; seq++) {
        const d = seq % 10
        if (d === 3) { planted.lost++; continue }
        if (d === 7) { send(seq + 1); send(seq); planted.reordered++; seq++; continue }
        send(seq)
        if (d === 5) { send(seq); planted.duplicated++ }
      }
      if (++group < GROUPS) setTimeout(pushGroup, 100)
    }
    setTimeout(pushGroup, 50)
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  server.close = () => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    http.close(() => resolve())
    http.closeAllConnections()
  })
  return server
}

test.serial('1000 users against a ws chat server: only the scenario\'s frames are sent, one reply time per request, extractor counts equal what the server planted', async t => {
  const s = await chatServer()
  t.teardown(() => s.close())
  const dir = tempDir(t)
  const file = writeScenario(dir, 'chat.mjs', `export default defineScenario({
    name: 'chat',
    async setup (user) {
      user.state.socket = await user.ws('/chat', {
        inbox: 0,
        events: { stream: m => m.json().room, seq: m => m.json().type === 'event' ? m.json().n : undefined, sentAt: m => m.json().at }
      })
      user.state.next = 0
    },
    async iteration (user) {
      const id = ++user.state.next
      await user.state.socket.request({ type: 'say', id, text: 'hello' }, m => m.json().type === 'said' && m.json().id === id, { name: 'say' })
      await user.sleep(100)
    }
  })`)
  const r = await run({ scenario: file, target: s.url, users: 1000, duration: '3s', workers: 2, out: null })
  t.is(r.status, 'passed', r.failures.join('; '))
  // crosstalk sent exactly what the scenario sent: no end-of-stream frame, nothing else
  t.deepEqual([...s.received.keys()], ['say'])
  const says = s.received.get('say') ?? 0
  t.like(r.metrics[METRICS.wsMessagesSent], { count: says })
  t.like(r.metrics[METRICS.wsReplyDuration], { count: says })
  t.like(r.metrics[`${METRICS.wsReplyDuration}{name:say}`], { count: says })
  t.true(says >= 1000 * 3, `${says} requests, load ${r.loadDurationMs} ms`)
  // the load phase is what was asked plus the graceful stop, which waits for in-flight iterations
  // only: at most the longest iteration (long on a starved box) and 1.5 s of scheduling, so a wait
  // of the engine's own after them (the former 2 s end-of-stream wait) breaks the bound
  const longest = (r.metrics[METRICS.iterationDuration] as { max: number }).max
  t.log(`load ${r.loadDurationMs} ms, longest iteration ${longest} ms`)
  t.true(r.loadDurationMs >= 3000 && r.loadDurationMs < 3000 + longest + 1500, `load ${r.loadDurationMs} ms, longest iteration ${longest} ms`)
  // event accounting from the extractors equals what the server planted, exactly
  t.is(s.sockets, 1000)
  t.is(r.events.received, s.planted.sent)
  t.like(r.events, { lost: s.planted.lost, duplicated: s.planted.duplicated, reordered: s.planted.reordered, unreconciled: 0, sent: 0 })
  t.is(s.planted.lost, 1000 * GROUPS * 3)
  t.like(r.metrics[METRICS.wsEventLatency], { count: s.planted.sent })
  t.like(r.metrics[METRICS.wsMessagesReceived], { count: s.planted.sent + says })
  t.true((r.metrics[METRICS.wsBytesReceived] as { count: number }).count > 0)
  t.true((r.metrics[METRICS.wsFrameInterval] as { count: number }).count > 0)
})

test.serial('a waitFor predicate or extractor that throws costs one counted error with the scenario\'s line, never a worker', async t => {
  const s = await chatServer({ textEvents: true })
  t.teardown(() => s.close())
  const dir = tempDir(t)
  const file = writeScenario(dir, 'throws.mjs', `export default defineScenario({
    name: 'throws',
    async setup (user) {
      user.state.socket = await user.ws('/chat', { events: user.id === 0 ? { seq: m => m.json().n } : undefined })
    },
    async iteration (user) {
      if (user.iterations > 0) return user.sleep(50)
      // the first frame is plain text: JSON.parse throws inside the predicate
      await user.state.socket.waitFor(m => m.json().type === 'event', 1000)
    }
  })`)
  const r = await run({ scenario: file, target: s.url, users: 20, duration: '1s', workers: 2, out: null })
  t.is(r.users.lost, 0)
  t.is(r.users.completed, 20)
  t.false(r.errors.groups.some(g => g.code === 'CT_ERR_WORKER'), JSON.stringify(r.errors.groups))
  const iteration = r.errors.groups.filter(g => g.phase === 'iteration')
  // 20 predicates and one extractor threw: each a counted scenario error
  t.is(iteration.reduce((n, g) => n + g.count, 0), 21, JSON.stringify(r.errors.groups))
  t.true(iteration.every(g => /JSON/.test(g.message)), JSON.stringify(iteration))
  // the scenario's own line: the predicate (line 10) and the extractor (line 5) of throws.mjs
  t.deepEqual(iteration.map(g => /throws\.mjs:(\d+):\d+$/.exec(g.at ?? '')?.[1]).sort(), ['10', '5'], JSON.stringify(iteration))
  t.is(r.status, 'failed')
})

/** A ws server: `/closing` closes a socket 100 ms after it sends `bye`; `/silent` never answers. */
async function closingServer (): Promise<{ url: string, close: () => Promise<void> }> {
  const http: Server = createServer((_req, res) => { res.writeHead(404).end() })
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false })
  wss.on('connection', (ws: WebSocket, req) => {
    if (req.url !== '/closing') return
    ws.on('message', (data: Buffer) => { if (data.toString() === 'bye') setTimeout(() => ws.close(1000), 100) })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      http.close(() => resolve())
      http.closeAllConnections()
    })
  }
}

test.serial('request() on a socket the server closed, and a wait nobody awaited: counted errors with their codes, never a worker', async t => {
  const s = await closingServer()
  t.teardown(() => s.close())
  const file = writeScenario(tempDir(t), 'closed.mjs', `export default defineScenario({
    name: 'closed',
    async setup (user) {
      user.state.silent = await user.ws('/silent', { timeout: 10000 })
      user.state.closing = await user.ws('/closing')
    },
    async iteration (user) {
      const { silent, closing } = user.state
      if (user.iterations === 0) {
        closing.send('bye')
        closing.next(5000) // never awaited: it rejects when the server closes (the worker's guard counts it)
        await silent.request('hello', () => true, 300) // a number is the timeout: 300 ms, not the socket's 10 s
      }
      if (user.iterations === 1) {
        while (closing.open) await user.sleep(20)
        await closing.request({ hi: 1 }, () => true, 500)
      }
      await user.sleep(50)
    }
  })`)
  const r = await run({ scenario: file, target: s.url, users: 20, duration: '2s', workers: 2, out: null })
  const groups = JSON.stringify(r.errors.groups)
  t.is(r.users.lost, 0, groups)
  t.is(r.users.completed, 20)
  t.false(r.errors.groups.some(g => g.code === 'CT_ERR_WORKER'), groups)
  const count = (re: RegExp, code: string): number => r.errors.groups.filter(g => g.phase === 'iteration' && g.code === code && re.test(g.message)).reduce((n, g) => n + g.count, 0)
  t.is(count(/within 300 ms/, 'CT_ERR_TIMEOUT'), 20, groups)
  t.is(count(/closing is not open/, 'CT_ERR_WS'), 20, groups)
  const stray = r.errors.groups.filter(g => g.user === '(unknown: unhandled rejection)')
  t.is(stray.reduce((n, g) => n + g.count, 0), 20, groups)
  t.true(stray.every(g => g.code === 'CT_ERR_WS' && /closing closed \(1000\)/.test(g.message)), groups)
  t.is(r.errors.groups.reduce((n, g) => n + g.count, 0), 60, groups)
})
