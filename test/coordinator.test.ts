// The coordinated start of shards: the Coordinator and awaitRelease over real sockets, then
// `crosstalk coordinate` and shards' `crosstalk run --coordinator` as real processes against a
// counting server: every shard starts at the released moment, none sends a request before it,
// and a coordinator that is missing, refuses or is interrupted costs no request.
import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Coordinator, type CoordinatorEvent } from '../engine/distributed/coordinator.js'
import { awaitRelease, REFUSED_SECRET } from '../engine/distributed/coordinator-client.js'
import { readyProof } from '../engine/distributed/ready-proof.js'
import { StartError } from '../engine/errors.js'
import { CLI, tempDir, writeScenario } from './support.js'

const SECRET = randomBytes(32).toString('hex')
const RUN = 'r-coord'

/** A coordinator on a free port, closed when the test ends. */
async function coordinator (t: { teardown: (fn: () => Promise<void>) => void }, o: { shards: number, timeoutMs?: number, port?: number, events?: CoordinatorEvent[] }): Promise<Coordinator> {
  const c = new Coordinator({ shards: o.shards, runId: RUN, secret: SECRET, port: o.port ?? 0, timeoutMs: o.timeoutMs ?? 30_000, onEvent: e => o.events?.push(e) })
  t.teardown(() => c.close())
  await c.listen()
  return c
}

function shardOf (c: Pick<Coordinator, 'url'>, index: number, count: number, extra: { secret?: string, signal?: AbortSignal, timeoutMs?: number, url?: string } = {}): Promise<number | undefined> {
  return awaitRelease({ url: extra.url ?? c.url, runId: RUN, shard: { index, count }, secret: extra.secret ?? SECRET, timeoutMs: extra.timeoutMs ?? 20_000, signal: extra.signal ?? new AbortController().signal })
}

async function until (ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`)
    await sleep(20)
  }
}

/** Whether something accepts connections on the port. */
function accepts (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

const portOf = (url: string): number => Number(new URL(url).port)

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

/** One raw request to the coordinator (its error paths, which awaitRelease never takes). */
function raw (url: string, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers } }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('three shards are released together with one start time; the server is closed after', async t => {
  const events: CoordinatorEvent[] = []
  const c = await coordinator(t, { shards: 3, events })
  const shards = [0, 1, 2].map(i => shardOf(c, i, 3).then(startAt => ({ startAt, at: Date.now() })))
  const release = await c.done
  const got = await Promise.all(shards)
  t.deepEqual(got.map(g => g.startAt), [release.startAtEpochMs, release.startAtEpochMs, release.startAtEpochMs])
  t.is(release.startAtEpochMs - release.releasedAtEpochMs, 500, 'the default lead')
  for (const g of got) t.true(g.at >= release.startAtEpochMs - 2, 'no shard resolves before the start time')
  t.deepEqual(events.filter(e => e.type === 'ready').map(e => e.type === 'ready' && e.ready), [1, 2, 3])
  t.deepEqual(c.lifecycle.history, ['starting', 'listening', 'releasing', 'released'])
  t.false(await accepts(portOf(c.url)), 'nothing is left listening')
})

test('a wrong secret is refused (403) in the README\'s words and never counts as ready; a proof is for one shard only', async t => {
  const c = await coordinator(t, { shards: 2 })
  const err = await t.throwsAsync(shardOf(c, 0, 2, { secret: 'x'.repeat(64) }), { instanceOf: StartError })
  t.is(err?.message, REFUSED_SECRET)
  t.is(err?.message, 'the coordinator refused the run secret: every shard and the coordinator need the same $CROSSTALK_RUN_SECRET')
  // shard 0's valid proof replayed as shard 1's claim
  const replay = await raw(c.url, 'POST', '/ready', JSON.stringify({ runId: RUN, shard: { index: 1, count: 2 } }), { 'x-crosstalk-proof': readyProof(SECRET, RUN, 0, 2) })
  t.is(replay.status, 403)
  t.is((await raw(c.url, 'POST', '/ready', '{"runId":')).status, 400)
  t.is((await raw(c.url, 'POST', '/ready', JSON.stringify({ runId: RUN, shard: { index: 2, count: 2 } }))).status, 400)
  t.is((await raw(c.url, 'POST', '/ready', JSON.stringify({ pad: 'x'.repeat(5000) }))).status, 413)
  t.is((await raw(c.url, 'GET', '/ready', '')).status, 405)
  t.is((await raw(c.url, 'GET', '/nothing', '')).status, 404)
  t.deepEqual(c.status().ready, [])
  t.is(c.lifecycle.state, 'listening')
})

test('another run id, another shard count, an index held by a live connection: 409 with the reason', async t => {
  const c = await coordinator(t, { shards: 2 })
  const stop = new AbortController()
  const first = shardOf(c, 0, 2, { signal: stop.signal })
  await until(() => c.status().ready.length === 1, 10_000, 'shard 0 to be ready')
  await t.throwsAsync(shardOf(c, 0, 2), { instanceOf: StartError, message: 'the coordinator refused shard 0/2: shard 0/2 is already ready on another connection (two shards with the same index?)' })
  await t.throwsAsync(shardOf(c, 1, 3), { instanceOf: StartError, message: /^the coordinator refused shard 1\/3: shard 1\/3 counts 3 shards, this coordinator releases 2$/ })
  const otherRun = awaitRelease({ url: c.url, runId: 'r-other', shard: { index: 1, count: 2 }, secret: SECRET, timeoutMs: 5000, signal: new AbortController().signal })
  await t.throwsAsync(otherRun, { instanceOf: StartError, message: /shard 1\/2 is of run 'r-other', this coordinator releases run 'r-coord'/ })
  stop.abort()
  t.is(await first, undefined, 'an interrupted wait ends quietly')
})

test('a shard whose connection dropped is not ready any more; its retry with the same index is', async t => {
  const events: CoordinatorEvent[] = []
  const c = await coordinator(t, { shards: 2, events })
  const stop = new AbortController()
  const gone = shardOf(c, 1, 2, { signal: stop.signal })
  await until(() => c.status().ready.length === 1, 10_000, 'shard 1 to be ready')
  stop.abort()
  t.is(await gone, undefined)
  await until(() => c.status().ready.length === 0, 10_000, 'the dropped shard to be forgotten')
  const both = Promise.all([shardOf(c, 1, 2), shardOf(c, 0, 2)])
  const release = await c.done
  t.deepEqual(await both, [release.startAtEpochMs, release.startAtEpochMs])
  t.deepEqual(events.map(e => e.type), ['ready', 'dropped', 'ready', 'ready', 'released'])
})

test('status: run id, shard count, ready indexes and state, never the secret', async t => {
  const c = await coordinator(t, { shards: 3 })
  const stop = new AbortController()
  const waiting = shardOf(c, 2, 3, { signal: stop.signal })
  await until(() => c.status().ready.length === 1, 10_000, 'shard 2 to be ready')
  const res = await fetch(`${c.url}/status`)
  const text = await res.text()
  t.is(res.status, 200)
  t.deepEqual(JSON.parse(text), { runId: RUN, shards: 3, ready: [2], state: 'listening' })
  t.false(text.includes(SECRET))
  stop.abort()
  await waiting
})

test('a shard that never comes: the coordinator and the waiting shards fail naming its index, and nothing is left open', async t => {
  const c = new Coordinator({ shards: 3, runId: RUN, secret: SECRET, port: 0, timeoutMs: 1500 })
  t.teardown(() => c.close())
  await c.listen()
  const waiting = [shardOf(c, 0, 3), shardOf(c, 2, 3)]
  const err = await t.throwsAsync(c.done, { instanceOf: StartError })
  t.regex(err.message, /^no release for run 'r-coord': shard 1 of 3 never became ready within 1\.5s \(ready: 0, 2\)$/)
  for (const w of waiting) await t.throwsAsync(w, { instanceOf: StartError, message: /^the coordinator gave up: no release for run 'r-coord': shard 1 of 3 never became ready/ })
  t.is(c.lifecycle.state, 'timedOut')
  t.false(await accepts(portOf(c.url)))
})

test('a shard retries while the coordinator is not up yet (a pod still starting), and is released once it is', async t => {
  const port = await closedPort()
  const url = `http://127.0.0.1:${port}`
  const early = shardOf({ url }, 0, 1, { timeoutMs: 20_000 })
  await sleep(700) // several refused connections
  const c = await coordinator(t, { shards: 1, port })
  const release = await c.done
  t.is(await early, release.startAtEpochMs)
})

test('an unreachable coordinator: StartError after the start timeout with the tries and the last cause', async t => {
  const url = `http://127.0.0.1:${await closedPort()}`
  const started = Date.now()
  const err = await t.throwsAsync(shardOf({ url }, 0, 2, { timeoutMs: 1000 }), { instanceOf: StartError })
  t.regex(err.message, new RegExp(`^the coordinator at ${url} was unreachable after \\d+ tries within --start-timeout \\(1s\\): .*ECONNREFUSED`))
  t.true(Date.now() - started < 5000)
})

// ---- the CLI: `crosstalk coordinate` and shards' `crosstalk run --coordinator`, as processes

interface Proc { child: ChildProcess, stdout: () => string, stderr: () => string, done: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

function start (t: { teardown: (fn: () => void) => void }, args: string[], env: Record<string, string> = { CROSSTALK_RUN_SECRET: SECRET }): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const done = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('close', (code, signal) => resolve({ code, signal })))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  void done.then(() => clearTimeout(timer))
  t.teardown(() => { child.kill('SIGKILL') })
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

/** A target that records when each request came and from which user. */
async function recordingServer (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ url: string, hits: Array<{ at: number, user: number }> }> {
  const hits: Array<{ at: number, user: number }> = []
  const server = createServer((req, res) => {
    hits.push({ at: Date.now(), user: Number(new URL(req.url ?? '/', 'http://x').searchParams.get('u')) })
    res.end('ok')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits }
}

const HIT = 'export default defineScenario({ name: "hit", async iteration (user) { await user.http.get("/hit?u=" + user.id); await new Promise(r => setTimeout(r, 20)) } })'

async function listeningUrl (p: Proc): Promise<string> {
  await until(() => /listening on http:\/\/\S+/.test(p.stdout()) || p.child.exitCode !== null, 20_000, 'the coordinator to listen')
  const m = /^crosstalk coordinate: listening on (http:\/\/127\.0\.0\.1:\d+) for (\d+) shards of run (\S+)$/m.exec(p.stdout())
  if (m === null) throw new Error(`no listening line: ${p.stdout()} ${p.stderr()}`)
  return m[1]!
}

test('end to end: two shard processes start their load at the released moment, not a request before it', async t => {
  const dir = tempDir(t)
  const server = await recordingServer(t)
  const scenario = writeScenario(dir, 'hit.mjs', HIT)
  const coord = start(t, ['coordinate', '--shards', '2', '--run-id', RUN, '--port', '0', '--timeout', '30s'])
  const url = await listeningUrl(coord)
  const shards = [0, 1].map(i => start(t, ['run', scenario, '--target', server.url, '--users', '10', '--duration', '1s', '--shard', `${i}/2`, '--run-id', RUN, '--coordinator', url, '--out', join(dir, `shard-${i}`), '-q']))
  const ends = await Promise.all(shards.map(s => s.done))
  for (const [i, end] of ends.entries()) t.is(end.code, 0, shards[i]!.stderr())
  t.is((await coord.done).code, 0, coord.stderr())
  const released = /^crosstalk coordinate: released 2 shards at (\S+): load starts at (\S+) \(epoch ms (\d+)\)$/m.exec(coord.stdout())
  t.truthy(released, coord.stdout())
  t.regex(coord.stdout(), /shard 0\/2 ready/)
  t.regex(coord.stdout(), /shard 1\/2 ready/)
  t.false(coord.stdout().includes(SECRET) || coord.stderr().includes(SECRET))
  const startAt = Number(released![3])
  // one clock on one machine: a timer may fire a ms early against Date.now(), never more
  const first = Math.min(...server.hits.map(h => h.at))
  t.true(first >= startAt - 5, `the first request came ${startAt - first} ms before the start time`)
  for (const i of [0, 1]) {
    const report = JSON.parse(readFileSync(join(dir, `shard-${i}`, 'report.json'), 'utf8'))
    const mine = server.hits.filter(h => h.user >= i * 5 && h.user < (i + 1) * 5)
    t.is(report.status, 'passed')
    t.is(report.runId, RUN)
    t.is(report.metrics['http.reqs'].count, mine.length, 'each shard counted exactly the requests the server saw from its users')
    t.true(Date.parse(report.startedAt) < startAt, 'set up before the release')
    t.log(`shard ${i}: first request ${Math.min(...mine.map(h => h.at)) - startAt} ms after the start time, ${mine.length} requests`)
  }
  t.deepEqual([...new Set(server.hits.map(h => h.user))].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each of the 10 users ran, on one shard or the other')
})

test('a shard whose coordinator never answers: exit 2 with one CT_ERR_START line, no request, no process left', async t => {
  const dir = tempDir(t)
  const server = await recordingServer(t)
  const scenario = writeScenario(dir, 'hit.mjs', HIT)
  const port = await closedPort()
  const shard = start(t, ['run', scenario, '--target', server.url, '--users', '4', '--duration', '1s', '--shard', '0/2', '--run-id', RUN, '--coordinator', `http://127.0.0.1:${port}`, '--start-timeout', '2s', '--out', join(dir, 'out'), '-q'])
  const end = await shard.done
  t.is(end.code, 2, shard.stderr())
  const lines = shard.stderr().trim().split('\n')
  t.is(lines.length, 1, shard.stderr())
  t.regex(lines[0]!, new RegExp(`^crosstalk: CT_ERR_START: the coordinator at http://127.0.0.1:${port} was unreachable after \\d+ tries within --start-timeout \\(2s\\): .*ECONNREFUSED`))
  t.is(server.hits.length, 0)
  t.throws(() => process.kill(shard.child.pid!, 0), undefined, 'the shard process is gone')
})

test('SIGINT to a shard waiting at the gate: exit 130, no request; the coordinator sees it drop, SIGTERM ends it with 143', async t => {
  const dir = tempDir(t)
  const server = await recordingServer(t)
  const scenario = writeScenario(dir, 'hit.mjs', HIT)
  const coord = start(t, ['coordinate', '--shards', '2', '--run-id', RUN, '--port', '0'])
  const url = await listeningUrl(coord)
  const shard = start(t, ['run', scenario, '--target', server.url, '--users', '4', '--duration', '1s', '--shard', '1/2', '--run-id', RUN, '--coordinator', url, '--out', join(dir, 'out'), '-q'])
  await until(() => /shard 1\/2 ready/.test(coord.stdout()) || shard.child.exitCode !== null, 30_000, 'the shard to be ready')
  shard.child.kill('SIGINT')
  t.is((await shard.done).code, 130, shard.stderr())
  await until(() => /shard 1\/2 dropped its connection/.test(coord.stdout()), 10_000, 'the coordinator to see the drop')
  t.is(server.hits.length, 0)
  coord.child.kill('SIGTERM')
  t.is((await coord.done).code, 143, coord.stderr())
})

test('coordinate refuses bad flags at once: a missing secret, a remote host without --allow-remote', async t => {
  const noSecret = start(t, ['coordinate', '--shards', '2', '--run-id', RUN, '--port', '0'], { CROSSTALK_RUN_SECRET: '' })
  t.is((await noSecret.done).code, 2)
  t.regex(noSecret.stderr(), /^crosstalk: CT_ERR_CONFIG: \$CROSSTALK_RUN_SECRET must hold the run secret, at least 32 characters/)
  const remote = start(t, ['coordinate', '--shards', '2', '--run-id', RUN, '--port', '0', '--host', '0.0.0.0'])
  t.is((await remote.done).code, 2)
  t.regex(remote.stderr(), /--host 0\.0\.0\.0 is not a loopback address: give --allow-remote/)
})
