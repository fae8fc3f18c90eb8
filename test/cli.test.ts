// The `crosstalk` command as a user runs it: a real process, real exit codes, real files.
import test from 'ava'
import { createServer } from 'node:net'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunResult } from '../engine/index.js'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { request } from 'undici'
import { CLI, cli, tempDir, writeScenario } from './support.js'

/** A port on 127.0.0.1 that is bound for the duration of the test. */
async function busyPort (t: { teardown: (fn: () => Promise<void>) => void }): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

function oneErrorLine (t: { is: (a: unknown, b: unknown, m?: string) => void, regex: (s: string, r: RegExp, m?: string) => void }, stderr: string, code: string): void {
  const lines = stderr.trim().split('\n')
  t.is(lines.length, 1, stderr)
  t.regex(lines[0]!, new RegExp(`^crosstalk: ${code}: \\S`))
}

test('bad input: one line with its code, exit 2', async t => {
  const dir = tempDir(t)
  const invalid = writeScenario(dir, 'invalid.mjs', 'export const nothing = 1')
  const broken = writeScenario(dir, 'broken.mjs', 'export default {{{')
  const port = await busyPort(t)
  const unreachable = await closedPort()
  const cases: Array<[string[], string]> = [
    [['run', '--no-such-flag'], 'CT_ERR_USAGE'],
    [['frobnicate'], 'CT_ERR_USAGE'],
    [['run', '--duration', 'soon'], 'CT_ERR_DURATION'],
    [['run', '--users', 'many'], 'CT_ERR_CONFIG'],
    [['run', join(dir, 'missing.mjs')], 'CT_ERR_SCENARIO_NOT_FOUND'],
    [['run', 'no-such-scenario'], 'CT_ERR_SCENARIO_NOT_FOUND'],
    [['run', broken], 'CT_ERR_SCENARIO_LOAD'],
    [['run', invalid], 'CT_ERR_SCENARIO_INVALID'],
    [['fixture', '--port', String(port)], 'CT_ERR_PORT_IN_USE'],
    [['fixture', '--bug', 'no-such-bug'], 'CT_ERR_CONFIG'],
    [['run', '--target', `http://127.0.0.1:${unreachable}`, '--users', '1', '--iterations', '1'], 'CT_ERR_TARGET_UNREACHABLE'],
    [['run', '--target', 'http://example.com', '--users', '1', '--iterations', '1'], 'CT_ERR_TARGET_NOT_LOOPBACK']
  ]
  for (const [args, code] of cases) {
    const r = await cli(args, { cwd: dir, timeoutMs: 20_000 })
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    oneErrorLine(t, r.stderr, code)
  }
})

test('run prints the summary and writes report.json (the npm start job, shortened)', async t => {
  const out = tempDir(t)
  const r = await cli(['run', '--users', '1000', '--duration', '2s', '--out', out], { timeoutMs: 120_000 })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /status PASSED/)
  t.regex(r.stdout, /http\.req\.duration/)
  t.regex(r.stderr, /load\s+users \d+\/1000/, 'plain progress lines in CI')
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.is(report.schemaVersion, 2)
  t.is(report.status, 'passed')
  t.like(report.users, { planned: 1000, peakActive: 1000, completed: 1000, lost: 0 })
  t.true(report.workers.threads >= 2)
  for (const name of ['http.req.duration', 'http.req.failed', 'http.reqs', 'iterations', 'iteration.duration', 'checks', 'ws.connect.duration', 'users.active']) {
    t.truthy(report.metrics[name], name)
  }
  t.like(report.metrics['http.req.duration'], { type: 'trend' })
  t.true(Object.keys(report.metrics['http.req.duration']!).every(k => ['type', 'count', 'avg', 'min', 'med', 'max', 'p90', 'p95', 'p99'].includes(k)))
  t.like(report.metrics['http.reqs'], { type: 'counter' })
  t.like(report.metrics['checks'], { type: 'rate', fails: 0 })
  t.is(report.target.fixture?.requests, (report.metrics['http.reqs'] as { count: number }).count)
  t.false(existsSync(join(out, 'report.json.tmp')))
})

test('a failed run exits 1', async t => {
  const out = tempDir(t)
  const r = await cli(['run', 'items', '--users', '10', '--iterations', '1', '--fixture-error-rate', '1', '--out', out, '--quiet'], { timeoutMs: 60_000 })
  t.is(r.code, 1, r.stderr)
  t.is(r.stdout, '')
  t.is((JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult).status, 'failed')
})

test('SIGINT stops the run within 2 s, exits 130 and still writes the report', async t => {
  const out = tempDir(t)
  let sentAt = 0
  const r = await cli(['run', 'items', '--users', '200', '--duration', '60s', '--out', out], {
    timeoutMs: 60_000,
    onStderr: (all, child) => {
      if (sentAt === 0 && /load\s+users/.test(all)) { sentAt = Date.now(); child.kill('SIGINT') }
    }
  })
  t.true(sentAt > 0, r.stderr)
  const stoppedAfter = Date.now() - sentAt
  t.is(r.code, 130, r.stderr)
  t.true(stoppedAfter < 2000 + 1000, `exited ${stoppedAfter} ms after SIGINT`) // + process start/exit
  t.regex(r.stdout, /status INTERRUPTED/)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.is(report.status, 'interrupted')
  t.true((report.metrics['http.reqs'] as { count: number }).count > 0)
})

test('crosstalk fixture prints one JSON line; --inspect binds the inspector to 127.0.0.1', async t => {
  for (const inspect of [false, true]) {
    const child = spawn(process.execPath, [CLI, 'fixture', '--port', '0', ...(inspect ? ['--inspect'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    t.teardown(() => { child.kill('SIGKILL') })
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve)
      setTimeout(() => reject(new Error('no JSON line within 10 s')), 10_000).unref()
    })
    const info = JSON.parse(line) as { url: string, wsUrl: string, port: number, pid: number, inspectorUrl?: string }
    t.regex(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    t.is(info.wsUrl, `ws://127.0.0.1:${info.port}/events`)
    t.is(info.pid, child.pid ?? -1)
    const health = await request(`${info.url}/health`)
    t.deepEqual(await health.body.json(), { ok: true })
    if (inspect) {
      const inspector = new URL(info.inspectorUrl ?? 'http://missing')
      t.is(inspector.hostname, '127.0.0.1')
      const list = await request(`http://127.0.0.1:${inspector.port}/json/list`)
      const targets = await list.body.json() as Array<{ webSocketDebuggerUrl: string }>
      t.is(targets[0]?.webSocketDebuggerUrl ?? null, info.inspectorUrl ?? 'none')
    } else {
      t.is(info.inspectorUrl, undefined)
    }
    child.kill('SIGTERM')
    t.is(await exited, 0)
  }
})

test('crosstalk runs under node --inspect (profiling sessions), the inspector on 127.0.0.1', async t => {
  const out = tempDir(t)
  const r = await cli(['run', 'items', '--users', '20', '--iterations', '1', '--quiet', '--out', out], { nodeArgs: ['--inspect=127.0.0.1:0'], timeoutMs: 60_000 })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stderr, /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\//)
  t.is((JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult).status, 'passed')
})
