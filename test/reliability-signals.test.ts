// Preflight, signals and child processes, as a user meets them: the real CLI, servers written here,
// real signals. What must hold: bad output paths and too many users fail before any load; SIGTERM
// and SIGINT still write the report; a second signal, or a SIGKILL, leaves no process or file behind.
import test from 'ava'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocketServer } from 'ws'
import type { RunResult } from '../engine/index.js'
import { CLI, cli, ENGINE_URL, tempDir, writeScenario } from './support.js'

interface Counted { url: string, requests: () => number }

/** A plain HTTP server on 127.0.0.1 that counts the requests it gets; closed when the test ends. */
async function countingServer (t: { teardown: (fn: () => Promise<void>) => void }): Promise<Counted> {
  let requests = 0
  const server: Server = createServer((_req, res) => {
    requests++
    res.end('ok')
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests: () => requests }
}

/** A scenario that asks the target for / every 20 ms. */
function pingScenario (dir: string, name = 'ping.mjs'): string {
  return writeScenario(dir, name, `export default defineScenario({
  name: 'ping',
  async iteration (user) {
    const res = await user.http.get('/')
    user.check(res.status === 200, 'ok')
    await user.sleep(20)
  }
})`)
}

/** Live and not a zombie (an orphan's zombie may never be reaped in a container). */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** The open-file limit of this process (node runs with its soft limit raised to the hard one). */
function openFileLimit (): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))!
  return Number(line.slice('Max open files'.length).trim().split(/\s+/)[0])
}

test('--out under a regular file: CT_ERR_OUT, exit 2, within a second of starting, no load sent', async t => {
  const dir = tempDir(t)
  const server = await countingServer(t)
  writeFileSync(join(dir, 'a-file'), 'x')
  const scenario = pingScenario(dir)
  for (const out of [join(dir, 'a-file'), join(dir, 'a-file', 'report')]) {
    const r = await cli(['run', scenario, '--target', server.url, '--users', '2', '--duration', '2s', '--out', out], { cwd: dir, timeoutMs: 20_000 })
    t.is(r.code, 2, r.stderr)
    const lines = r.stderr.trim().split('\n')
    t.is(lines.length, 1, r.stderr)
    t.regex(lines[0]!, /^crosstalk: CT_ERR_OUT: --out .*a-file.* cannot be written: /)
    t.true(r.ms < 5000, `took ${r.ms} ms`) // node start + the check; the run would take 2 s + setup
  }
  const c = await cli(['compare', '-b', server.url, '-c', server.url, pingScenario(dir), '--users', '2', '--duration', '2s', '--out', join(dir, 'a-file', 'cmp')], { cwd: dir, timeoutMs: 20_000 })
  t.is(c.code, 2, c.stderr)
  t.regex(c.stderr, /^crosstalk: CT_ERR_OUT: --out /)
  t.is(server.requests(), 0)
  // the clean case: a directory that does not exist yet is created and holds only the reports
  const fresh = join(dir, 'new', 'deeper')
  const ok = await cli(['run', scenario, '--target', server.url, '--users', '2', '--iterations', '2', '--out', fresh, '-q'], { cwd: dir, timeoutMs: 30_000 })
  t.is(ok.code, 0, ok.stderr)
  t.deepEqual(readdirSync(fresh).sort(), ['junit.xml', 'report.html', 'report.json', 'summary.md'])
  t.true(server.requests() >= 4)
})

test('open-file preflight: more users than the limit fails before any load; near it, a warning with the numbers', async t => {
  const dir = tempDir(t)
  const server = await countingServer(t)
  const scenario = pingScenario(dir)
  const limit = 256
  t.true(openFileLimit() >= limit, 'the test lowers the soft limit; it must not be below that already')
  const run = (users: number): Promise<{ code: number | null, stderr: string }> => new Promise(resolve => {
    // node raises its soft limit to the hard one at start, so both are lowered (for this shell and crosstalk only)
    const child = spawn('sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, CLI, 'run', scenario, '--target', server.url, '--users', String(users), '--iterations', '1', '--out', join(dir, 'out'), '-q'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('close', code => resolve({ code, stderr }))
  })
  const over = await run(limit)
  t.is(over.code, 2, over.stderr)
  t.regex(over.stderr, new RegExp(`^crosstalk: CT_ERR_CONFIG: ${limit} users need at least \\d+ open files .* is ${limit}: raise the limit with \`ulimit -n <n>\``))
  t.is(server.requests(), 0)
  const near = await run(100) // 100 fit with one descriptor each, not with two
  t.is(near.code, 0, near.stderr)
  t.regex(near.stderr, new RegExp(`crosstalk: warning: 100 users with an HTTP connection and a WebSocket each need \\d+ open files but the open-file limit \\(ulimit -n\\) is ${limit}`))
  t.is(server.requests(), 100)
  const clean = await run(10)
  t.is(clean.code, 0, clean.stderr)
  t.is(clean.stderr, '')
})

interface Started { child: ChildProcess, done: Promise<{ code: number | null, stderr: string, exitedAt: number }> }

/** `crosstalk <args>` as a child we can signal whenever the test decides; killed when the test ends. */
function start (t: { teardown: (fn: () => void) => void }, args: string[], cwd: string): Started {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const done = new Promise<{ code: number | null, stderr: string, exitedAt: number }>(resolve => child.on('close', code => resolve({ code, stderr, exitedAt: Date.now() })))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  void done.then(() => clearTimeout(timer))
  t.teardown(() => { child.kill('SIGKILL') })
  return { child, done }
}

/** Waits until `ok()` holds, polling; fails the wait after `ms`. */
async function until (ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`)
    await sleep(50)
  }
}

/** pids of the direct children of `pid` whose command line matches `pattern`. */
function childrenOf (pid: number, pattern: RegExp): number[] {
  let out = ''
  try { out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }) } catch { return [] }
  return out.split('\n').filter(l => pattern.test(l)).map(l => Number(l.trim().split(/\s+/)[0]))
}

for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${sig} mid-run: exit ${code}, report.json with status interrupted and what was measured`, async t => {
    const dir = tempDir(t)
    const server = await countingServer(t)
    const out = join(dir, 'out')
    const run = start(t, ['run', pingScenario(dir), '--target', server.url, '--users', '5', '--duration', '60s', '--out', out], dir)
    await until(() => server.requests() >= 50, 30_000, '50 requests')
    const sentAt = Date.now()
    run.child.kill(sig)
    const r = await run.done
    t.is(r.code, code, r.stderr)
    t.true(r.exitedAt - sentAt < 15_000, `exited ${r.exitedAt - sentAt} ms after ${sig}`)
    t.regex(r.stderr, sig === 'SIGTERM' ? /crosstalk: terminated \(SIGTERM\), stopping users and writing the report/ : /crosstalk: interrupted, stopping users/)
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
    t.is(report.status, 'interrupted')
    t.is(report.stopReason, 'interrupt')
    const sent = (report.metrics['http.reqs'] as { count: number }).count
    t.true(sent >= 50, `report counts ${sent} requests`)
    t.true(sent <= server.requests(), `report counts ${sent}, the server saw ${server.requests()}`)
  })
}

test('a second signal exits at once: no fixture child, no supervisor, no hidden .mjs left behind', async t => {
  const dir = tempDir(t)
  // TypeScript (bundled into a hidden .mjs beside it); a teardown that would hold the graceful stop for 20 s
  const scenario = join(dir, 'slow-stop.ts')
  writeFileSync(scenario, `import { defineScenario } from ${JSON.stringify(ENGINE_URL)}
export default defineScenario({
  name: 'slow-stop',
  async iteration (user) { await user.http.get('/health'); await user.sleep(20) },
  async teardown () { await new Promise<void>(resolve => setTimeout(resolve, 20_000)) }
})
`)
  const hidden = (): string[] => readdirSync(dir).filter(f => f.endsWith('.mjs'))
  const run = start(t, ['run', scenario, '--users', '4', '--duration', '60s', '--fixture-process', 'child', '--out', join(dir, 'out')], dir)
  let spawned: number[] = []
  await until(() => { spawned = childrenOf(run.child.pid!, /fixtures\/child\.js|supervisor\.js/); return spawned.length === 2 }, 30_000, 'the fixture child and its supervisor')
  t.is(hidden().length, 1)
  await sleep(2000) // into the load phase
  run.child.kill('SIGTERM')
  await sleep(500)
  const secondAt = Date.now()
  run.child.kill('SIGTERM')
  const r = await run.done
  t.is(r.code, 143, r.stderr)
  t.true(r.exitedAt - secondAt < 3000, `exited ${r.exitedAt - secondAt} ms after the second signal`)
  t.deepEqual(hidden(), [])
  await until(() => spawned.every(pid => !alive(pid)), 5000, `pids ${spawned.join(', ')} to end`).catch(() => {})
  t.deepEqual(spawned.filter(alive), [])
})

/** A server for `cmd:` targets: plain node:http on $PORT, writing its pid into `dir` once listening. */
function commandServer (dir: string): string {
  const path = join(dir, 'server.mjs')
  writeFileSync(path, `import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'
createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', () => {
  writeFileSync(${JSON.stringify(dir)} + '/pid-' + process.pid, '')
})
`)
  return `cmd:node ${path}`
}

function serverPids (dir: string): number[] {
  return readdirSync(dir).filter(f => f.startsWith('pid-')).map(f => Number(f.slice(4)))
}

test('SIGKILL of crosstalk: the fixture child and cmd: servers are gone within a few seconds', async t => {
  const dir = tempDir(t)
  const run = start(t, ['run', pingScenario(dir), '--users', '2', '--duration', '60s', '--fixture-process', 'child', '--out', join(dir, 'out')], dir)
  let fixture: number[] = []
  await until(() => { fixture = childrenOf(run.child.pid!, /fixtures\/child\.js/); return fixture.length === 1 }, 30_000, 'the fixture child')
  await sleep(1000)
  run.child.kill('SIGKILL')
  await run.done
  await until(() => !alive(fixture[0]!), 8000, 'the fixture child to end').catch(() => {})
  t.false(alive(fixture[0]!), 'fixture child still running')

  const cmd = commandServer(dir)
  const cmp = start(t, ['compare', '-b', cmd, '-c', cmd, pingScenario(dir), '--users', '2', '--duration', '30s', '--rounds', '1', '--out', join(dir, 'cmp')], dir)
  await until(() => serverPids(dir).length === 2, 30_000, 'both cmd: servers listening')
  const servers = serverPids(dir)
  t.true(servers.every(alive))
  cmp.child.kill('SIGKILL')
  await cmp.done
  await until(() => !servers.some(alive), 8000, 'the cmd: servers to end').catch(() => {})
  t.deepEqual(servers.filter(alive), [])
})

test('compare interrupted in round 1: exit 130 (not CT_ERR_CONFIG), compare.json says so, servers stopped', async t => {
  const dir = tempDir(t)
  const server = await countingServer(t)
  const cmd = commandServer(dir)
  const out = join(dir, 'cmp')
  const cmp = start(t, ['compare', '-b', server.url, '-c', cmd, pingScenario(dir), '--users', '2', '--duration', '30s', '--rounds', '2', '--out', out], dir)
  await until(() => server.requests() >= 20, 30_000, 'round 1 baseline load')
  cmp.child.kill('SIGINT')
  const r = await cmp.done
  t.is(r.code, 130, r.stderr)
  t.notRegex(r.stderr, /CT_ERR/)
  const result = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as { reasons: string[], rounds: unknown[], runReports: string[] }
  t.regex(result.reasons[0]!, /^interrupted after 0 of 2 rounds/)
  t.deepEqual(result.rounds, [])
  t.is(result.runReports.length, 1) // the interrupted baseline run's report, with what it measured
  const report = JSON.parse(readFileSync(result.runReports[0]!, 'utf8')) as RunResult
  t.is(report.status, 'interrupted')
  t.deepEqual(serverPids(dir).filter(alive), [])
})

test('a cmd: server that exits at once is reported at once, with its exit code and last stderr line', async t => {
  const dir = tempDir(t)
  const server = await countingServer(t)
  const dies = join(dir, 'dies.mjs')
  writeFileSync(dies, "process.stderr.write('starting\\nboom: no database\\n'); process.exit(3)\n")
  const r = await cli(['compare', '-b', server.url, '-c', `cmd:node ${dies}`, pingScenario(dir), '--users', '2', '--duration', '2s', '--out', join(dir, 'cmp')], { cwd: dir, timeoutMs: 40_000 })
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^crosstalk: CT_ERR_TARGET_UNREACHABLE: 'node .*dies\.mjs' ended \(exit code 3\) before listening on 127\.0\.0\.1:\d+ \(its PORT\): boom: no database\n$/)
  t.true(r.ms < 10_000, `took ${r.ms} ms`) // the listen wait is 30 s
  t.is(server.requests(), 0)
})

test('a cmd: server killed by a signal before listening is reported at once: exit 2, "ended (signal SIGKILL)"', async t => {
  const dir = tempDir(t)
  const server = await countingServer(t)
  const dies = join(dir, 'kills-itself.mjs')
  writeFileSync(dies, "process.stderr.write('dying\\n'); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 200)\n")
  const r = await cli(['compare', '-b', server.url, '-c', `cmd:node ${dies}`, pingScenario(dir), '--users', '2', '--duration', '2s', '--out', join(dir, 'cmp')], { cwd: dir, timeoutMs: 40_000 })
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^crosstalk: CT_ERR_TARGET_UNREACHABLE: 'node .*kills-itself\.mjs' ended \(signal SIGKILL\) before listening on 127\.0\.0\.1:\d+ \(its PORT\): dying\n$/)
  t.true(r.ms < 10_000, `took ${r.ms} ms`) // the listen wait is 30 s
  t.is(server.requests(), 0)
})

for (const [name, signals, code] of [['SIGTERM', ['SIGTERM'], 143], ['a second SIGINT', ['SIGINT', 'SIGINT'], 130]] as const) {
  test(`compare stopped by ${name}: exit ${code}, in bounded time, no cmd: server left running`, async t => {
    const dir = tempDir(t)
    const cmd = commandServer(dir)
    const cmp = start(t, ['compare', '-b', cmd, '-c', cmd, pingScenario(dir), '--users', '2', '--duration', '30s', '--rounds', '2', '--out', join(dir, 'cmp')], dir)
    await until(() => serverPids(dir).length === 2, 30_000, 'both cmd: servers listening')
    const servers = serverPids(dir)
    t.true(servers.every(alive))
    await sleep(2000) // into round 1's load
    let lastAt = 0
    for (const [i, sig] of signals.entries()) {
      if (i > 0) await sleep(300)
      lastAt = Date.now()
      cmp.child.kill(sig)
    }
    const r = await cmp.done
    t.is(r.code, code, r.stderr)
    const bound = signals.length === 1 ? 15_000 : 3000 // graceful: the run's stop and reports; a second signal: at once
    t.true(r.exitedAt - lastAt < bound, `exited ${r.exitedAt - lastAt} ms after the last signal`)
    await until(() => !servers.some(alive), 5000, 'the cmd: servers to end').catch(() => {})
    t.deepEqual(servers.filter(alive), [])
    // gone, not only dead: process.kill(pid, 0) fails once the zombie is reaped (by init here, as
    // crosstalk has exited: a moment later)
    const gone = (pid: number): boolean => { try { process.kill(pid, 0); return false } catch { return true } }
    await until(() => servers.every(gone), 8000, 'the cmd: servers to be reaped').catch(() => {})
    for (const pid of servers) t.throws(() => process.kill(pid, 0), undefined, `pid ${pid}`)
  })
}

test('EMFILE during a run: the error groups carry the ulimit -n hint, report.json is written, exit 1', async t => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>(resolve => wss.once('listening', () => resolve()))
  t.teardown(async () => {
    for (const c of wss.clients) c.terminate()
    await new Promise<void>(resolve => wss.close(() => resolve()))
  })
  const port = (wss.address() as { port: number }).port
  const dir = tempDir(t)
  const out = join(dir, 'out')
  // 60 users pass the preflight (it counts one HTTP connection and one WebSocket each), then each
  // opens five sockets in its setup: 300 against a limit of 256
  const scenario = writeScenario(dir, 'many-ws.mjs', `export default defineScenario({
  name: 'many-ws',
  async setup (user) { user.state.sockets = []; for (let i = 0; i < 5; i++) user.state.sockets.push(await user.ws('/')) },
  async iteration (user) { await user.sleep(100) }
})`)
  const started = Date.now()
  const r = await new Promise<{ code: number | null, stderr: string }>(resolve => {
    // node raises its soft limit to the hard one at start, so both are lowered (this shell and crosstalk only)
    const child = spawn('bash', ['-c', 'ulimit -n 256; exec "$0" "$@"', process.execPath, CLI, 'run', scenario, '--target', `http://127.0.0.1:${port}`, '--users', '60', '--duration', '2s', '--out', out, '-q'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stderr }) })
  })
  t.is(r.code, 1, r.stderr)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.true(report.users.lost > 0, JSON.stringify(report.users))
  const hinted = report.errors.groups.filter(g => g.message.includes('(too many open files: raise the limit with `ulimit -n'))
  t.log(`took ${Date.now() - started} ms; users ${JSON.stringify(report.users)}; ${report.errors.groups.map(g => `${g.count}x [${g.phase} ${g.code ?? ''} ${g.cause ?? ''}] ${g.message}`).join(' | ')}`)
  t.true(hinted.length >= 1, JSON.stringify(report.errors.groups, null, 1))
  t.true(hinted.every(g => /EMFILE/.test(`${g.message} ${g.cause ?? ''} ${g.code ?? ''}`)), JSON.stringify(hinted))
  t.is(hinted.reduce((n, g) => n + g.count, 0), report.errors.groups.filter(g => /EMFILE/.test(`${g.message} ${g.cause ?? ''}`)).reduce((n, g) => n + g.count, 0))
})
