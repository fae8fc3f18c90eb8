// Scale: 10,000 simultaneous users, each with a session and a WebSocket, held by crosstalk's real
// engine (run(), the default 2 worker threads) against the fixture in its own process. Per round:
// engine memory per user (RSS of the crosstalk process at the plateau minus a baseline run of
// 100 users per worker thread), the heap per user at 1,000 users against the same baseline (it
// must not grow with the count), time until every user is set up, and, in-process, how many user
// contexts one thread constructs per second.
import { execFileSync } from 'node:child_process'
import { ROUNDS, fmt, log, runClient, show, startFixture, stat, type Stat } from './lib.js'

const USERS = Number(process.env.BENCH_SCALE_USERS ?? 10_000)
const WORKERS = 2
/**
 * 100 users per worker thread: the pool, the scenario, the run machinery and code the JIT has
 * compiled for the per-user paths, no crowd. A baseline of one user per thread compiled almost
 * nothing, so ~1.1 MB per thread of optimized code and feedback counted as users' memory:
 * 2.2 KB per user at 1,000 users, 0.2 KB at 10,000 (heap snapshots, 2026-11-30).
 */
const BASELINE_USERS = 100 * WORKERS
const LOAD_SECONDS = 6
/** seconds into the load phase (every user is set up by then) when the plateau is read */
const MEASURE_AT = 3
const EVENTS_PER_SECOND = 0.1
/** a smaller crowd in the same rounds: heap per user must not grow with the count (issue 19: flat within 10%) */
const SMALL_USERS = 1000
const FLAT_GOAL = 0.1
const CONTEXTS = 50_000
const BYTES_GOAL = 20_000
const CONTEXTS_GOAL = 50_000

interface Plateau {
  rss: number, heapMain: number, heapWorkers: number, externalWorkers: number, threadsMeasured: number, fds: number, activeUsers: number, gcMs: number
  users: { planned: number, allocated: number, lost: number }
  threads: number, allConnectedS: number, status: string, errors: number, checksFailed: number
}
interface Contexts { count: number, seconds: number, perSecond: number, heapBytesPerContext: number }

/** The open-file limits (soft, hard) the client processes inherit. */
function openFileLimits (): { soft: string, hard: string } {
  const [soft = '?', hard = '?'] = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n')
  return { soft, hard }
}

export async function benchScale (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const limits = openFileLimits()
  const base: Plateau[] = []
  const full: Plateau[] = []
  const small: Plateau[] = []
  const contexts: Contexts[] = []
  const hold = (url: string, users: number): Plateau =>
    runClient<Plateau>('./clients/scale-client.js', [url, String(users), String(WORKERS), String(LOAD_SECONDS), String(MEASURE_AT)], ['--expose-gc'])
  for (let round = 1; round <= ROUNDS; round++) {
    const fixture = await startFixture(['--events-per-second', String(EVENTS_PER_SECOND)])
    try {
      const kinds = ['base', 'small', 'full'] as const
      const shift = (round - 1) % kinds.length
      for (const which of [...kinds.slice(shift), ...kinds.slice(0, shift)]) {
        const p = hold(fixture.url, which === 'base' ? BASELINE_USERS : which === 'small' ? SMALL_USERS : USERS)
        ;(which === 'base' ? base : which === 'small' ? small : full).push(p)
        log(`scale round ${round}/${ROUNDS} ${which}: ${p.activeUsers} active, RSS ${fmt(p.rss / 2 ** 20)} MiB, heap ${fmt((p.heapMain + p.heapWorkers) / 2 ** 20)} MiB, ${p.fds} fds, set up in ${fmt(p.allConnectedS, 2)} s, lost ${p.users.lost}, errors ${p.errors}`)
      }
    } finally {
      fixture.stop()
    }
    const c = runClient<Contexts>('./clients/contexts-client.js', ['http://127.0.0.1:9', String(CONTEXTS)], ['--expose-gc'])
    contexts.push(c)
    log(`scale round ${round}/${ROUNDS} contexts: ${fmt(c.perSecond, 0)}/s, ${fmt(c.heapBytesPerContext, 0)} B heap each`)
  }

  const n = USERS - BASELINE_USERS
  const perUser = (f: (p: Plateau) => number): Stat => stat(full.map((p, i) => (f(p) - f(base[i]!)) / n))
  const bytesPerUser = perUser(p => p.rss)
  const heapPerUser = perUser(p => p.heapMain + p.heapWorkers)
  const externalPerUser = perUser(p => p.externalWorkers)
  const heapOf = (p: Plateau): number => p.heapMain + p.heapWorkers
  const heapPerSmallUser = stat(small.map((p, i) => (heapOf(p) - heapOf(base[i]!)) / (SMALL_USERS - BASELINE_USERS)))
  // paired by round: heap per user at USERS / at SMALL_USERS
  const heapGrowth = stat(full.map((p, i) => ((heapOf(p) - heapOf(base[i]!)) / n) / ((heapOf(small[i]!) - heapOf(base[i]!)) / (SMALL_USERS - BASELINE_USERS))))
  const fdsPerUser = perUser(p => p.fds)
  const rssFull = stat(full.map(p => p.rss / 2 ** 20))
  const rssBase = stat(base.map(p => p.rss / 2 ** 20))
  const timeToAllConnectedS = stat(full.map(p => p.allConnectedS))
  const usersSetUpPerSecond = stat(full.map(p => USERS / p.allConnectedS))
  const contextsPerSecond = stat(contexts.map(c => c.perSecond))
  const contextHeap = stat(contexts.map(c => c.heapBytesPerContext))
  const lost = full.reduce((s, p) => s + p.users.lost, 0)
  const errors = full.reduce((s, p) => s + p.errors + p.checksFailed, 0)
  const minActive = Math.min(...full.map(p => p.activeUsers))
  const holds = (ok: boolean): string => ok ? 'holds' : 'does not hold'
  const kb = (s: Stat): string => show({ median: s.median / 1000, min: s.min / 1000, max: s.max / 1000 }, 1)

  const markdown = `## Scale: ${fmt(USERS, 0)} simultaneous users, each with a session and a WebSocket

Each user logs in (\`POST /login\`, session cookie), closes its HTTP connection and holds one
\`/events\` WebSocket (\`benchmarks/clients/scale-scenario.ts\`), run by \`run()\` with ${WORKERS} worker
threads (the default here) against the fixture in its own process (\`--events-per-second ${EVENTS_PER_SECOND}\`,
so the sockets are held, not busy). ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}; each round also runs a baseline of ${BASELINE_USERS} users (${BASELINE_USERS / WORKERS}
per worker thread, so the code of the per-user paths is compiled in both) in a fresh process, and a run of ${fmt(SMALL_USERS, 0)} users, in rotating order.

| figure | result | goal |
|---|---|---|
| engine memory per user: RSS (KB, all threads) | **${kb(bytesPerUser)}** | <= ${fmt(BYTES_GOAL / 1000, 0)} KB: ${holds(bytesPerUser.median <= BYTES_GOAL)} |
| of which V8 heap, all threads (KB) | ${kb(heapPerUser)} | |
| V8 heap per user with ${fmt(SMALL_USERS, 0)} users (KB; same rounds, same baseline) | ${kb(heapPerSmallUser)} | |
| heap per user at ${fmt(USERS, 0)} / at ${fmt(SMALL_USERS, 0)}, paired by round | **${show(heapGrowth, 3)}** | flat within ${fmt(FLAT_GOAL * 100, 0)}%: ${holds(Math.abs(heapGrowth.median - 1) <= FLAT_GOAL)} |
| external (ArrayBuffer) memory of the workers (KB) | ${kb(externalPerUser)} | |
| user contexts constructed per second, one thread | **${show(contextsPerSecond, 0)}** | >= ${fmt(CONTEXTS_GOAL, 0)}: ${holds(contextsPerSecond.median >= CONTEXTS_GOAL)} |
| time to all connected (s): run start to every user logged in with its WebSocket open | **${show(timeToAllConnectedS, 2)}** (${show(usersSetUpPerSecond, 0)} users/s) | |
| open file descriptors per user | ${show(fdsPerUser, 2)} | |

Process RSS at the plateau: ${show(rssFull, 0)} MiB with ${fmt(USERS, 0)} users, ${show(rssBase, 0)} MiB for the baseline.
Users active at the plateau: at least ${fmt(minActive, 0)} of ${fmt(USERS, 0)} in every round; setups lost: ${lost};
errors and failed checks: ${errors}.

How: memory is read in the crosstalk process (\`benchmarks/clients/scale-client.ts\`, run with
\`--expose-gc\`) ${MEASURE_AT} s into the load phase, when every user is set up: each worker thread runs a full
GC (node:inspector) and reports its V8 heap, the main thread collects its garbage, then the process's
RSS (all threads) and open descriptors are read. Per user = (plateau − baseline) / ${fmt(n, 0)}. Time to all
connected is \`RunResult.loadWindow.startS\`: from the run's start (pool start-up included) to the
start barrier, which opens once every user's setup (login, connection close, WebSocket handshake)
has finished. The context rate is measured in its own process
(\`benchmarks/clients/contexts-client.ts\`): ${fmt(CONTEXTS, 0)} \`UserContext\`s constructed as a worker's
\`newUser()\` does (identity, cookie jar, \`UserHttp\` with its undici \`Client\` object, state; no
network) with a real \`MetricsRecorder\` and \`CohortIsolation\`, after a warm-up of 10,000, all kept
alive; heap per context after a full GC: ${show(contextHeap, 0)} bytes.

Open files: the limit here is ${limits.soft} per process (soft; hard ${limits.hard}${limits.soft === limits.hard ? ': the soft limit cannot be raised further' : ''}).
A user holding a keep-alive HTTP connection and a WebSocket needs 2 descriptors, ${fmt(2 * USERS, 0)} for ${fmt(USERS, 0)} users
before the process's own. The scenario therefore closes its HTTP connection after login
(\`user.http.close()\`; the session cookie stays in the user's jar and is sent with the WebSocket
handshake), so each user holds one descriptor, as the per-user figure above shows. A scenario that
keeps using HTTP while holding sockets would need fewer users per process.
`
  return {
    results: {
      users: USERS,
      workers: WORKERS,
      baselineUsers: BASELINE_USERS,
      eventsPerSecondPerSocket: EVENTS_PER_SECOND,
      bytesPerUser,
      heapBytesPerUser: heapPerUser,
      smallUsers: SMALL_USERS,
      heapBytesPerUserSmall: heapPerSmallUser,
      heapPerUserRatioFullVsSmall: heapGrowth,
      externalBytesPerUser: externalPerUser,
      fdsPerUser,
      rssMiB: { full: rssFull, baseline: rssBase },
      contextsPerSecond,
      contextHeapBytes: contextHeap,
      timeToAllConnectedS,
      usersSetUpPerSecond,
      openFileLimit: limits,
      setupsLost: lost,
      errors,
      goals: { bytesPerUser: BYTES_GOAL, contextsPerSecond: CONTEXTS_GOAL, heapPerUserFlat: FLAT_GOAL }
    },
    markdown
  }
}
