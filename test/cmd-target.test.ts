// `cmd:` targets: crosstalk starts the server under test itself (free PORT, loopback only),
// attaches to its inspector for --leaks, reports its start-up, and leaves no process behind on
// any way out. And no silent fixture: run() without a target or `fixture: true` is refused.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { ConfigError, TargetUnreachableError, compare, run, type RunResult } from '../engine/index.js'
import { CommandTarget, freePort } from '../engine/target/command-target.js'
import { loadTest } from '../engine/ava.js'
import { cli, tempDir, writeScenario } from './support.js'

/**
 * The server under test: node:http on $PORT/$HOST. `--leak` plants a leak (a module-level array
 * that keeps 2 KB per request); `--announce` prints a ready line with its URL; `--need-greeting`
 * answers 500 unless GREETING=hi came in its environment. Other arguments (a marker) are ignored.
 */
const SERVER = `import { createServer } from 'node:http'
const args = process.argv.slice(2)
const kept = []
const server = createServer((req, res) => {
  if (args.includes('--leak')) kept.push({ at: Date.now(), pad: 'x'.repeat(2000) + Math.random() })
  const ok = !args.includes('--need-greeting') || process.env.GREETING === 'hi'
  res.statusCode = ok ? 200 : 500
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ ok, kept: kept.length }))
})
server.listen(Number(process.env.PORT), process.env.HOST, () => {
  if (args.includes('--announce')) console.log('ready at http://' + process.env.HOST + ':' + process.env.PORT + '/')
})
`

function setup (t: { teardown: (fn: () => void) => void }): { dir: string, server: string, scenario: string, marker: string } {
  const dir = tempDir(t)
  const server = join(dir, 'server.mjs')
  writeFileSync(server, SERVER)
  const scenario = writeScenario(dir, 'hit.mjs', `export default defineScenario({
    name: 'hit',
    async iteration (user) {
      const r = await user.http.get('/', { name: 'root' })
      user.check(r.status === 200, 'ok')
    }
  })`)
  return { dir, server, scenario, marker: `ct-marker-${randomBytes(6).toString('hex')}` }
}

/** Processes whose command line holds `marker` (pgrep -f), none when the group was stopped. */
function processesWith (marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' }).trim().split('\n').filter(l => l !== '' && !l.includes('pgrep'))
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function report (out: string): RunResult {
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
}

// a fixed amount of work (not a time): 20 users x 2000 iterations = 40000 requests, a reading
// every 300 at most. Each reading holds the load, and the load then runs on for a while, so they
// come further apart (~1500 requests on a fast machine): ~28 readings, where the verdict needs 16
// (8 in the steady window). With 1000 iterations a fast run got 14 and was inconclusive.
const LEAK_RUN = ['--users', '20', '--iterations', '2000', '--workers', '1', '--leaks', '--leak-every', '300']
// the twin only has to not be called a leak: half the work
const TWIN_RUN = ['--users', '20', '--iterations', '1000', '--workers', '1', '--leaks', '--leak-every', '300']

test.serial('run --target cmd: --leaks starts the server, attaches to its inspector, finds the planted leak, and stops it', async t => {
  const { dir, server, scenario, marker } = setup(t)
  const out = join(dir, 'out')
  const r = await cli(['run', scenario, '--target', `cmd:node ${server} --leak ${marker}`, ...LEAK_RUN, '--out', out], { timeoutMs: 90_000 })
  t.is(r.code, 1, r.stderr) // a leak fails the run
  const rep = report(out)
  t.is(rep.leaks?.verdict, 'leak', rep.leaks?.reason)
  t.is(rep.leaks?.backend, 'remote')
  // measured 490-520 B/op here (less than the 2 KB string suggests); half of it is far above the 32 B/op floor
  t.true((rep.leaks?.bytesPerOp ?? 0) > 250, `${rep.leaks?.bytesPerOp} B/op`)
  const started = rep.target.command!
  t.regex(rep.target.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  t.is(started.command, `node ${server} --leak ${marker}`)
  t.regex(started.inspector ?? '', /^ws:\/\/127\.0\.0\.1:\d+\//)
  t.true(started.startMs > 0 && (started.rssBytes ?? 0) > 2 ** 20, JSON.stringify(started))
  // spawned without a shell: the pid is the node process that listened, and it is gone
  t.false(alive(started.pid), `pid ${started.pid} still alive`)
  t.deepEqual(processesWith(marker), [])
  t.regex(r.stdout, new RegExp(`target http://127\\.0\\.0\\.1:\\d+/ \\(started 'cmd:node .*${marker}', pid ${started.pid}: listening after \\d+ ms, RSS [\\d.]+ MiB after start\\)`))
  t.log(`start-up ${started.startMs} ms, RSS ${((started.rssBytes ?? 0) / 2 ** 20).toFixed(1)} MiB; ${rep.leaks?.samples.length} readings, ${rep.leaks?.bytesPerOp.toFixed(0)} B/op`)
})

test.serial('the same server without the leak gets no leak verdict', async t => {
  const { dir, server, scenario, marker } = setup(t)
  const out = join(dir, 'out')
  const r = await cli(['run', scenario, '--target', `cmd:node ${server} ${marker}`, ...TWIN_RUN, '--out', out], { timeoutMs: 90_000 })
  const rep = report(out)
  t.not(rep.leaks?.verdict, 'leak', rep.leaks?.reason)
  t.is(r.code, 0, r.stderr)
  t.deepEqual(processesWith(marker), [])
  t.log(`${rep.leaks?.verdict}: ${rep.leaks?.samples.length} readings, ${rep.leaks?.bytesPerOp.toFixed(0)} B/op`)
})

test.serial('SIGINT mid-run: exit 130, the report is written, the started server (behind a shell) is gone', async t => {
  const { dir, server, scenario, marker } = setup(t)
  const out = join(dir, 'out')
  let sent = false
  // shell syntax (quotes, &&): run by sh -c, so the server is a member of the group, not the spawned pid
  const command = `cd ${dir} && node "${server}" ${marker}`
  const r = await cli(['run', scenario, '--target', `cmd:${command}`, '--users', '10', '--duration', '60s', '--workers', '1', '--out', out], {
    timeoutMs: 60_000,
    onStderr: (all, child) => {
      if (!sent && /load\s+users/.test(all)) { sent = true; child.kill('SIGINT') }
    }
  })
  t.true(sent, r.stderr)
  t.is(r.code, 130, r.stderr)
  const rep = report(out)
  t.is(rep.status, 'interrupted')
  t.is(rep.target.command?.command, command)
  t.false(alive(rep.target.command!.pid))
  t.deepEqual(processesWith(marker), [])
})

test('a command that exits at once: CT_ERR_TARGET_UNREACHABLE with its last stderr line, exit 2, nothing left', async t => {
  const { dir, marker } = setup(t)
  const failing = join(dir, 'failing.mjs')
  writeFileSync(failing, 'console.error("config missing: DATABASE_URL"); process.exit(3)\n')
  const r = await cli(['run', '--target', `cmd:node ${failing} ${marker}`, '--users', '1', '--iterations', '1', '--out', join(dir, 'out')], { timeoutMs: 30_000 })
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^crosstalk: CT_ERR_TARGET_UNREACHABLE: 'node .*' ended \(exit code 3\) before listening on 127\.0\.0\.1:\d+ \(its PORT\): config missing: DATABASE_URL\n$/)
  t.false(existsSync(join(dir, 'out', 'report.json')))
  // a command that never listens is bounded by --target-start-timeout
  writeFileSync(join(dir, 'sleeper.mjs'), 'setTimeout(() => {}, 20_000)\n')
  const never = await cli(['run', '--target', `cmd:node sleeper.mjs ${marker}`, '--target-start-timeout', '1s', '--users', '1', '--iterations', '1'], { cwd: dir, timeoutMs: 30_000 })
  t.is(never.code, 2, never.stderr)
  t.regex(never.stderr, /CT_ERR_TARGET_UNREACHABLE: 'node sleeper\.mjs .*' did not listen on 127\.0\.0\.1:\d+ \(its PORT\) within 1000 ms/)
  t.deepEqual(processesWith(marker), [])
})

/** A plain node:http server on a free loopback port that answers 'squatter' to everything. */
async function squatter (t: { teardown: (fn: () => Promise<void>) => void }): Promise<number> {
  const server = createServer((_req, res) => res.end('squatter'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return (server.address() as AddressInfo).port
}

test('a port that another process takes before the server binds it: the start is retried on a new port, and the squatter is never the target', async t => {
  const { dir, server, marker } = setup(t)
  const taken = await squatter(t)
  // the first port handed out is the squatter's, as when another process binds a picked port first
  const picked: number[] = []
  const pickPort = async (): Promise<number> => {
    const port = picked.length === 0 ? taken : await freePort()
    picked.push(port)
    return port
  }
  const target = await CommandTarget.start({ command: `node ${server} ${marker}` }, { cwd: dir, inspect: false, startTimeoutMs: 30_000, pickPort })
  try {
    t.is(picked.length, 2, `ports handed out: ${picked.join(', ')}`)
    t.is(target.url, `http://127.0.0.1:${picked[1]}/`)
    const body = await (await fetch(target.url)).json() as { ok: boolean }
    t.true(body.ok)
    t.true(alive(target.startup.pid))
  } finally {
    await target.stop()
  }
  t.deepEqual(processesWith(marker), [])
})

test('a port the user gives that is taken: CT_ERR_TARGET_UNREACHABLE with the server\'s own error line, and the squatter is not loaded', async t => {
  const { dir, scenario, marker } = setup(t)
  const taken = await squatter(t)
  // the squatter answers the readiness probe, but it is no process of the command's group
  const err = await t.throwsAsync(run({ scenario, target: { command: `node server.mjs ${marker}`, cwd: dir, port: taken }, users: 2, iterations: 1, workers: 1 }), { instanceOf: TargetUnreachableError })
  t.regex(err?.message ?? '', new RegExp(`ended \\(exit code 1\\) before listening on 127\\.0\\.0\\.1:${taken} \\(its PORT\\): Error: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${taken}$`))
  t.deepEqual(processesWith(marker), [])
})

test('run() and the ava macro: no target and no fixture is CT_ERR_CONFIG naming the field, before any load', async t => {
  let requests = 0
  const server = createServer((_req, res) => { requests++; res.end('{}') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const { scenario } = setup(t)
  for (const options of [{ scenario, users: 5, iterations: 1 }, { scenario, target: undefined, users: 5, iterations: 1 }, { scenario, fixture: false, users: 5, iterations: 1 }]) {
    const err = await t.throwsAsync(run(options), { instanceOf: ConfigError })
    t.is(err?.code, 'CT_ERR_CONFIG')
    t.is(err?.message, 'target: give a URL, cmd:<command>, or fixture: true for the embedded fixture')
  }
  await t.throwsAsync(loadTest(t, { scenario, users: 5, iterations: 1 }), { instanceOf: ConfigError, message: /^target: give a URL/ })
  t.is(requests, 0)
})

test('the CLI without --target says on its first line that it loads the embedded fixture', async t => {
  const { dir } = setup(t)
  const r = await cli(['run', 'default', '--users', '2', '--iterations', '1', '--workers', '1', '--out', join(dir, 'out')], { timeoutMs: 60_000 })
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout.split('\n')[0], "target: embedded fixture (no --target given; --target <url> or --target 'cmd:<command>' loads your server)")
  t.truthy(report(join(dir, 'out')).target.fixture)
})

test('run() with the object form: env, cwd and a ready line whose URL becomes the target', async t => {
  const { dir, scenario, marker } = setup(t)
  const r = await run({
    scenario,
    target: { command: `node server.mjs --announce --need-greeting ${marker}`, cwd: dir, env: { GREETING: 'hi' }, ready: /^ready at / },
    users: 5,
    iterations: 4,
    workers: 1
  })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.regex(r.target.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  t.true((r.target.command?.startMs ?? -1) >= 0)
  t.is(r.target.command?.inspector, undefined, 'no inspector unless --leaks or --cpu-profile')
  t.deepEqual(processesWith(marker), [])
  // a malformed object form is listed with the other problems
  const err = await t.throwsAsync(run({ scenario, target: { command: '', port: 70000 } as never }), { instanceOf: ConfigError })
  t.deepEqual(err?.problems, ["target.command must be the command that starts the server, e.g. 'node server.js'", 'target.port must be a port number from 1 to 65535'])
})

test.serial('compare --leaks with two cmd: targets: heap slopes through their inspectors, and both start-ups in compare.json', async t => {
  const { dir, server, scenario, marker } = setup(t)
  const out = join(dir, 'compare')
  const r = await compare({
    baseline: `cmd:node ${server} ${marker}`,
    candidate: `cmd:node ${server} --leak ${marker}`,
    scenario,
    rounds: 1,
    leaks: true,
    run: { users: 10, duration: '2s', workers: 1 },
    out
  })
  const startup = r.startup!
  t.true(startup.baseline!.startMs > 0 && startup.candidate!.startMs > 0, JSON.stringify(startup))
  t.is(startup.change?.startMs, startup.candidate!.startMs - startup.baseline!.startMs)
  t.regex(startup.baseline?.inspector ?? '', /^ws:\/\/127\.0\.0\.1:/)
  t.true(r.metrics.some(m => m.metric === 'heapSlope'), r.metrics.map(m => m.metric).join(', '))
  const written = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as { startup?: unknown }
  t.deepEqual(written.startup, JSON.parse(JSON.stringify(startup)))
  t.regex(readFileSync(join(out, 'compare.md'), 'utf8'), /## Start-up\n\n.*\n.*\n\| listening after \| \d+ ms \| \d+ ms \| [+-]?\d+ ms \|\n\| RSS after start \|/)
  t.deepEqual(processesWith(marker), [])
})
