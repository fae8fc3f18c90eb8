// Shards: 30,000 simultaneous WebSocket users on this one machine, as 3 local shard processes of
// 10,000 (each below the open-file limit of one process), against the fixture split across 3
// processes, started together by `crosstalk coordinate` and merged by `crosstalk merge`: the
// whole distributed path of issue 18 at a scale one process cannot hold.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunResult } from '../engine/index.js'
import { fmt, here, log, startFixture, type Fixture } from './lib.js'

const USERS = Number(process.env.BENCH_SHARD_USERS ?? 30_000)
const SHARDS = 3
const LOAD = '10s'
const CLI = here('../../bin/crosstalk.js')
const SCENARIO = here('./clients/scale-scenario.js')

interface Child { child: ChildProcess, done: Promise<{ code: number | null, stderr: string }>, peakRssBytes: () => number }

/** Spawns the CLI with the run secret in its environment, polling its peak RSS (VmHWM). */
function crosstalk (args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Child {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let peak = 0
  child.stdout.setEncoding('utf8').on('data', (d: string) => { for (const l of d.split('\n')) if (l !== '') onLine?.(l) })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (m !== null) peak = Math.max(peak, Number(m[1]) * 1024)
    } catch { /* ended */ }
  }, 500)
  const done = new Promise<{ code: number | null, stderr: string }>(resolve => child.on('close', (code) => { clearInterval(poll); resolve({ code, stderr }) }))
  return { child, done, peakRssBytes: () => peak }
}

export async function benchShards (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'crosstalk-bench-shards-'))
  const fixtures: Fixture[] = []
  const children: Child[] = []
  try {
    for (let i = 0; i < SHARDS; i++) fixtures.push(await startFixture(['--events-per-second', '0.1']))
    const runId = `bench-${randomBytes(3).toString('hex')}`
    const env = { CROSSTALK_RUN_SECRET: randomBytes(32).toString('hex') }
    let coordinatorUrl: (url: string) => void = () => {}
    const listening = new Promise<string>(resolve => { coordinatorUrl = resolve })
    const coordinator = crosstalk(['coordinate', '--shards', String(SHARDS), '--run-id', runId, '--port', '0', '--timeout', '10m'], env, (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m !== null) coordinatorUrl(m[1]!)
    })
    children.push(coordinator)
    const url = await listening
    const started = Date.now()
    const shards = fixtures.map((f, i) => crosstalk(['run', SCENARIO, '--target', f.url, '--users', String(USERS), '--shard', `${i}/${SHARDS}`, '--run-id', runId,
      '--coordinator', url, '--duration', LOAD, '--workers', '2', '--setup-timeout', '120s', '--start-timeout', '10m',
      '--out', join(dir, `shard-${i}`), '--no-html', '--no-md', '--no-junit', '--quiet'], env))
    children.push(...shards)
    const ends = await Promise.all(shards.map(s => s.done))
    const wallS = (Date.now() - started) / 1000
    ends.forEach((e, i) => { if (e.code !== 0) log(`shard ${i} exited ${e.code}: ${e.stderr.trim().split('\n').at(-1) ?? ''}`) })
    await coordinator.done
    const reports = Array.from({ length: SHARDS }, (_v, i) => JSON.parse(readFileSync(join(dir, `shard-${i}`, 'report.json'), 'utf8')) as RunResult)
    reports.forEach((r, i) => {
      log(`shard ${i}: ${r.status}, set up in ${fmt(r.loadWindow.startS, 1)} s, users lost ${r.users.lost}; ${r.failures.slice(0, 3).join('; ')}`)
      for (const g of r.errors.groups.slice(0, 3)) log(`  ${g.count} x ${g.phase} ${g.code ?? ''} ${g.cause ?? ''} ${g.message.slice(0, 160)}`)
    })
    const merge = crosstalk(['merge', ...reports.map((_r, i) => join(dir, `shard-${i}`, 'report.json')), '--out', join(dir, 'merged'), '--quiet', '--no-html'], {})
    const m = await merge.done
    const merged = JSON.parse(readFileSync(join(dir, 'merged', 'report.json'), 'utf8')) as RunResult
    const peaks = shards.map(s => s.peakRssBytes())
    const setupS = reports.map(r => r.loadWindow.startS)
    const spreadMs = Math.max(...(merged.mergedFrom?.shards.map(s => s.startOffsetMs) ?? [0]))
    const counter = (k: string): number => { const v = merged.metrics[k]; return v?.type === 'counter' ? v.count : 0 }
    const checks = merged.metrics.checks
    log(`shards: ${fmt(merged.users.planned, 0)} users, peak active ${fmt(merged.users.peakActive, 0)}, lost ${merged.users.lost}, merge exit ${m.code}, load starts within ${spreadMs} ms`)
    const results = {
      users: USERS,
      shards: SHARDS,
      exitCodes: ends.map(e => e.code),
      mergeExitCode: m.code,
      status: merged.status,
      planned: merged.users.planned,
      allocated: merged.users.allocated,
      peakActive: merged.users.peakActive,
      lost: merged.users.lost,
      errors: merged.errors.count,
      checksFailed: checks?.type === 'rate' ? checks.fails : 0,
      wsSessions: counter('ws.sessions'),
      loadStartSpreadMs: spreadMs,
      setupSecondsPerShard: setupS,
      peakRssMiBPerShard: peaks.map(p => Math.round(p / 2 ** 20)),
      wallSeconds: wallS,
      violations: merged.isolation.violations
    }
    const markdown = `## Shards: ${fmt(USERS, 0)} WebSocket users as ${SHARDS} local shards

${SHARDS} \`crosstalk run --shard i/${SHARDS}\` processes of ${fmt(USERS / SHARDS, 0)} users each (2 worker threads each), every user logged in with a
session and holding one \`/events\` WebSocket (\`benchmarks/clients/scale-scenario.ts\`, ${LOAD} of load), shard i against fixture
process i (the fixture split across ${SHARDS} processes, so no process holds more than ${fmt(USERS / SHARDS, 0)} sockets, below the
open-file limit of one process). \`crosstalk coordinate --shards ${SHARDS}\` released the shards once all were set up;
\`crosstalk merge\` merged their reports. One run.

| figure | result |
|---|---|
| users planned / set up / peak active (merged report) | **${fmt(merged.users.planned, 0)} / ${fmt(merged.users.allocated, 0)} / ${fmt(merged.users.peakActive, 0)}** |
| WebSocket sessions opened (\`ws.sessions\`) | ${fmt(results.wsSessions, 0)} |
| users lost · errors · failed checks · isolation violations | ${results.lost} · ${results.errors} · ${results.checksFailed} · ${results.violations} |
| load starts of the shards (merged \`mergedFrom\`: latest minus earliest) | within ${fmt(spreadMs, 0)} ms |
| set-up time per shard (run start to its start barrier, s) | ${setupS.map(s => fmt(s, 1)).join(' · ')} |
| peak RSS per shard process (MiB) | ${results.peakRssMiBPerShard.join(' · ')} |
| shard exit codes · merge exit code · merged status | ${results.exitCodes.join(' ')} · ${m.code} · ${merged.status} |
| wall time, shards started to all ended (s) | ${fmt(wallS, 1)} |
`
    return { results, markdown }
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM')
    for (const f of fixtures) f.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
