// Connections without a stampede: each user's HTTP connection is opened in setup, setups are paced
// by --setup-concurrency, and connects a server did not take in time get a one-line diagnosis.
// Servers are plain node:http written here, on 127.0.0.1 port 0 (the one that blocks its event
// loop runs in a child process, so it cannot block the run's main thread).
import test from 'ava'
import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { run } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'

interface Served { url: string, connections: () => number, connectionsAtFirstRequest: () => number | undefined, maxInFlight: () => number }

/** A server with Node's default listen backlog that counts connections and concurrent requests. */
async function serve (t: { teardown: (fn: () => Promise<void>) => void }, holdMs = 0): Promise<Served> {
  let connections = 0
  let atFirst: number | undefined
  let inFlight = 0
  let maxInFlight = 0
  let firstSeen = false
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // counted once this poll phase is over: a connection the kernel had already accepted may
    // still wait in the same batch of events as the first request's bytes (seen when setup got faster)
    if (!firstSeen) {
      firstSeen = true
      setImmediate(() => { atFirst = connections })
    }
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    const answer = (): void => {
      inFlight--
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ path: req.url }))
    }
    if (holdMs > 0 && req.url === '/enter') setTimeout(answer, holdMs)
    else answer()
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    connectionsAtFirstRequest: () => atFirst,
    maxInFlight: () => maxInFlight
  }
}

const NO_SETUP = 'export default defineScenario({ name: "no-setup", async iteration (user) { await user.http.get("/hello") } })'

test('1000 users with no setup start on connections opened before the load: all 1000 accepted before the first request, no connect timeout', async t => {
  const server = await serve(t)
  const scenario = writeScenario(tempDir(t), 'no-setup.mjs', NO_SETUP)
  const r = await run({ scenario, target: server.url, users: 1000, iterations: 1, out: null })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.is(r.errors.count, 0)
  t.is(server.connectionsAtFirstRequest(), 1001) // every user's, and the reachability check before the run
  t.is(server.connections(), 1001) // one per user, and the reachability check before the run
  t.is(r.metrics['http.connect.timeouts']?.type === 'counter' ? r.metrics['http.connect.timeouts'].count : 0, 0)
  t.deepEqual(r.hints, [])
})

test('preconnect off: connections open only as the load reaches each user', async t => {
  const server = await serve(t)
  // users start 2 ms apart: preconnected, all 200 would be open at the first request
  const scenario = writeScenario(tempDir(t), 'staggered.mjs', `import { setTimeout as sleep } from 'node:timers/promises'
export default defineScenario({ name: 'staggered', async iteration (user) { await sleep(user.id * 2); await user.http.get('/hello') } })`)
  const r = await run({ scenario, target: server.url, users: 200, iterations: 1, preconnect: false, out: null })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.true((server.connectionsAtFirstRequest() ?? 0) < 100, `connections at the first request: ${server.connectionsAtFirstRequest()}`)
  t.is(server.connections(), 201) // and the reachability check before the run
})

test('setups are paced: with --setup-concurrency 20, at most 20 users are in setup at once', async t => {
  const server = await serve(t, 30)
  const scenario = writeScenario(tempDir(t), 'enter.mjs', `export default defineScenario({
    name: 'enter',
    async setup (user) { await user.http.post('/enter', { json: { user: user.name } }) },
    async iteration (user) { await user.http.get('/hello') }
  })`)
  const r = await run({ scenario, target: server.url, users: 200, iterations: 1, setupConcurrency: 20, out: null })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.true(server.maxInFlight() <= 20, `max in flight ${server.maxInFlight()}`)
  t.true(server.maxInFlight() >= 2, `max in flight ${server.maxInFlight()}`)
  t.is(server.connections(), 201) // setup opened each connection: preconnect adds none (+1: the reachability check)
})

/** A server with a listen backlog of 1 that blocks its event loop for 3 s on its first connection. */
async function startBlockingServer (t: { teardown: (fn: () => void) => void }): Promise<string> {
  const code = `
    const { createServer } = require('node:http')
    let blocked = false
    const server = createServer((req, res) => res.end('{}'))
    server.on('connection', () => { if (!blocked) { blocked = true; const end = Date.now() + 3000; while (Date.now() < end); } })
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(server.address().port))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const port = await new Promise<string>(resolve => createInterface({ input: child.stdout }).once('line', resolve))
  return `http://127.0.0.1:${port}`
}

test('connects a server does not take in time are counted and diagnosed in one line (listen backlog)', async t => {
  const url = await startBlockingServer(t)
  const scenario = writeScenario(tempDir(t), 'no-setup.mjs', NO_SETUP)
  const r = await run({ scenario, target: url, users: 50, iterations: 1, setupConcurrency: 50, requestTimeout: '1s', out: null })
  const timeouts = r.metrics['http.connect.timeouts']
  const count = timeouts?.type === 'counter' ? timeouts.count : 0
  t.true(count >= 10, `http.connect.timeouts ${count}`)
  t.is(r.hints.length, 1, r.hints.join('\n'))
  t.regex(r.hints[0]!, /listen backlog/)
  t.regex(r.hints[0]!, /--setup-concurrency \(now 50\)/)
})
