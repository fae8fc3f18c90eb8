// Worker scaling: crosstalk's HTTP client (health scenario, one connection per user) with 1, 2
// and 3 worker threads against the same fixture process; requests/s and client CPU per request
// over the steady window of each run.
import { availableParallelism } from 'node:os'
import { ROUNDS, SECONDS, fmt, log, runClient, show, startFixture, stat, type Stat } from './lib.js'

const USERS = 50
const THREADS = [1, 2, 3] as const

interface Sample { rps: number, cpuUsPerS: number, cpuPerReqUs: number, serverCpuUsPerS: number, p50: number, p99: number, failed: number, threads: number, steadySeconds: number }
interface Summary { rps: Stat, cpuPerReqUs: Stat, cpuCores: Stat, serverCores: Stat, p50: Stat, p99: Stat, failed: number }

export async function benchWorkers (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const fixture = await startFixture()
  const samples = new Map<number, Sample[]>(THREADS.map(t => [t, []]))
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // rotate the order so no thread count always runs first (or on the warmest machine)
      const order = THREADS.map((_t, i) => THREADS[(i + round - 1) % THREADS.length]!)
      for (const threads of order) {
        const s = runClient<Sample>('./clients/workers-client.js', [fixture.url, String(USERS), String(SECONDS), String(threads), String(fixture.pid)])
        if (s.threads !== threads) throw new Error(`asked for ${threads} worker threads, the run used ${s.threads}`)
        samples.get(threads)!.push(s)
        log(`workers round ${round}/${ROUNDS} threads=${threads}: ${fmt(s.rps, 0)} req/s, ${fmt(s.cpuPerReqUs, 2)} µs CPU/req, client ${fmt(s.cpuUsPerS / 1e6, 2)} cores, server ${fmt(s.serverCpuUsPerS / 1e6, 2)} cores`)
      }
    }
  } finally {
    fixture.stop()
  }
  const byThreads: Record<string, Summary> = {}
  for (const [t, xs] of samples) {
    byThreads[t] = {
      rps: stat(xs.map(s => s.rps)),
      cpuPerReqUs: stat(xs.map(s => s.cpuPerReqUs)),
      cpuCores: stat(xs.map(s => s.cpuUsPerS / 1e6)),
      serverCores: stat(xs.map(s => s.serverCpuUsPerS / 1e6)),
      p50: stat(xs.map(s => s.p50)),
      p99: stat(xs.map(s => s.p99)),
      failed: xs.reduce((n, s) => n + s.failed, 0)
    }
  }
  const one = samples.get(1)!
  const speedup = (t: number): Stat => stat(samples.get(t)!.map((s, i) => s.rps / one[i]!.rps))
  const best = THREADS.reduce((a, b) => byThreads[b]!.rps.median > byThreads[a]!.rps.median ? b : a)

  const markdown = `## Worker scaling: HTTP requests/s by worker threads (${USERS} users, \`GET /health\`, ${SECONDS} s per run)

| worker threads | requests/s | vs 1 thread (paired by round) | client CPU per request (µs) | client CPU (cores) | fixture CPU (cores) | p50 (ms) | p99 (ms) | failed |
|---|---|---|---|---|---|---|---|---|
${THREADS.map(t => {
    const s = byThreads[t]!
    return `| ${t} | ${show(s.rps, 0)} | ${t === 1 ? '1' : show(speedup(t), 2)} | ${show(s.cpuPerReqUs, 2)} | ${show(s.cpuCores, 2)} | ${show(s.serverCores, 2)} | ${show(s.p50, 2)} | ${show(s.p99, 2)} | ${s.failed} |`
  }).join('\n')}

Most requests/s here: **${best} worker thread${best === 1 ? '' : 's'}**. The machine has ${availableParallelism()} cores and the fixture (one
Node process, one event loop) runs on it too, so client threads and the server share them: client +
fixture CPU (medians) ${THREADS.map(t => `${fmt(byThreads[t]!.cpuCores.median + byThreads[t]!.serverCores.median, 2)} cores with ${t}`).join(', ')}
threads. Extra threads do not find spare cores here: with the fixture's event loop and the run's
main thread, 3 to 5 busy threads share 2 cores, and with ${USERS} users each waiting for its response
(a closed loop), requests/s follow round-trip time, which scheduling across more threads likely
lengthens even while some CPU stays idle. Size the pool to the cores the target leaves free.

Each run is crosstalk's real engine (\`run()\`, the health
scenario: one request per iteration on each user's own keep-alive connection, scanning on) in its
own process (\`benchmarks/clients/workers-client.ts\`); the thread counts alternate order by round
against one fixture process. Figures are over the steady window, so pool start-up, which grows
with the thread count, is excluded: requests/s from the run's per-second series (whole seconds
from 1 s after the load phase starts to 1 s before it ends), CPU (all threads, \`process.cpuUsage()\`)
over about the same span, the fixture's from \`/proc/<pid>/stat\` at the same moments. CPU per
request is the client's CPU rate divided by requests/s.
`
  return {
    results: {
      users: USERS,
      threads: [...THREADS],
      byThreads,
      speedupVsOneThread: Object.fromEntries(THREADS.filter(t => t !== 1).map(t => [t, speedup(t)])),
      bestThreads: best
    },
    markdown
  }
}
