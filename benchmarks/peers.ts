// The peers a Node team would pick instead of crosstalk, side by side with it on the same fixture
// process and the same workload: Artillery (HTTP, WebSocket and Socket.IO engines), autocannon and
// wrk for HTTP, bare `ws` / socket.io-client loops for the event streams. Every contender runs in
// its own process and is measured from outside over a steady window (peer-window.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import type { FixtureStats } from '../fixtures/index.js'
import { ROUNDS, fmt, here, loadAverage, log, pairedRatio, perRound, startFixture } from './lib.js'
import { closeStats, measureWindow, waitQuiet, type Watch } from './peer-window.js'
import { artilleryEntry, ensureArtillery, ensureWrk } from './peers-setup.js'
import { artilleryHttpScript, artilleryIoScript, artilleryReport, artilleryWsScript, readArtilleryOutput, wrkReport, writeTokens, type ToolReport } from './peer-tools.js'
import { peersMarkdown } from './peers-markdown.js'
import { ARTILLERY_GOAL, EVENT_RATE, GROUPS, IO_PER_SOCKET, RUN_SECONDS, STREAM_USERS, WINDOW_END_S, summarize, type Comparison, type Contender, type Group, type PeerSample, type PeersSetup, type Summary } from './peers-config.js'

const http: Pick<Watch, 'work' | 'connections'> = { work: s => s.healthProbes, connections: s => s.openSockets }
const ws: Pick<Watch, 'work' | 'connections'> = { work: s => s.events.sent, connections: s => s.openWebSockets }
const io: Pick<Watch, 'work' | 'connections'> = { work: s => s.io.eventsSent, connections: s => s.io.openSockets }
// the section's own /stats connection stays open
const quiet = (s: FixtureStats): boolean => s.openSockets <= 1 && s.openWebSockets === 0 && s.io.openSockets === 0

const lastJson = (out: string): ToolReport => {
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as Partial<ToolReport>
  return { p50: r.p50 ?? 0, p99: r.p99 ?? 0, failed: r.failed ?? 0 }
}
const NO_LATENCY: ToolReport = { p50: 0, p99: 0, failed: 0 }

// wrk and autocannon connect their users while the first ones already load the fixture: at 1000
// that took up to ~5 s here, so they run longer then (their window is as long as everyone's)
const CONNECT_EXTRA_S = 3

/** Artillery's users' sessions, made beforehand (over one pool, closed after, so no connection lingers). */
async function login (url: string, n: number): Promise<string[]> {
  const pool = new Pool(url, { connections: 10 })
  try {
    return await Promise.all(Array.from({ length: n }, async (_, i) => {
      const res = await pool.request({ method: 'POST', path: '/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `artillery-${i}` }) })
      return (await res.body.json() as { token: string }).token
    }))
  } finally {
    await pool.close()
  }
}

class PeersRun {
  readonly samples = new Map<string, PeerSample[]>()
  private runs = 0

  constructor (private readonly url: string, private readonly dir: string, private readonly tokens: string, private readonly artillery: boolean, private readonly wrk: boolean) {}

  available (who: Contender): boolean {
    return (who !== 'artillery' || this.artillery) && (who !== 'wrk' || this.wrk)
  }

  async run (group: Group, who: Contender): Promise<PeerSample> {
    await waitQuiet(this.url, quiet)
    const users = group === 'http50' ? 50 : STREAM_USERS
    const node = (script: string, ...args: Array<string | number>): [string, string[]] => [process.execPath, [here(script), ...args.map(String)]]
    const timed = { users, endAfterS: WINDOW_END_S, timeoutS: RUN_SECONDS + 90 }
    if (group === 'http50' || group === 'http1000') {
      const extra = users >= 1000 ? CONNECT_EXTRA_S : 0
      if (who === 'artillery') return await this.artilleryRun(artilleryHttpScript(this.dir, this.url, users, RUN_SECONDS), { ...http, ...timed }, users, true)
      const [cmd, args] = who === 'crosstalk'
        ? node('./clients/crosstalk-client.js', this.url, users, RUN_SECONDS, 1, 'health', 'on')
        : who === 'autocannon'
          ? node('./clients/autocannon-client.js', `${this.url}/health`, users, RUN_SECONDS + extra)
          : ['wrk', ['-t2', `-c${users}`, `-d${RUN_SECONDS + extra}s`, '--latency', `${this.url}/health`]]
      // wrk's and autocannon's durations count from their start, crosstalk's from after its set-up
      const fromSpawn = who === 'crosstalk' ? {} : { runSeconds: RUN_SECONDS + extra, ...(who === 'wrk' ? { connectWaitS: extra } : {}) }
      const w = await measureWindow(this.url, cmd, args, { ...http, ...timed, ...fromSpawn })
      return { ...w, users, ...(who === 'wrk' ? wrkReport(w.stdout) : lastJson(w.stdout)) }
    }
    const watch = group === 'ws' ? ws : io
    if (who === 'artillery') {
      const script = group === 'ws'
        ? artilleryWsScript(this.dir, this.url, this.tokens, users, RUN_SECONDS)
        : artilleryIoScript(this.dir, this.url, this.tokens, users, RUN_SECONDS)
      return await this.artilleryRun(script, { ...watch, ...timed }, users, false)
    }
    const [cmd, args] = who === 'crosstalk'
      ? group === 'ws'
        ? node('./clients/crosstalk-ws-client.js', this.url, users, RUN_SECONDS, 1, 'protocol')
        : node('./clients/crosstalk-io-client.js', this.url, users, RUN_SECONDS, 1)
      : group === 'ws'
        ? node('./clients/bare-ws-client.js', this.url, users, RUN_SECONDS)
        : node('./clients/bare-io-client.js', this.url, users, RUN_SECONDS)
    const w = await measureWindow(this.url, cmd, args, { ...watch, ...timed })
    return { ...w, users, ...NO_LATENCY }
  }

  private async artilleryRun (script: string, watch: Watch, users: number, latency: boolean): Promise<PeerSample> {
    const out = join(this.dir, `out-${++this.runs}.json`)
    // Artillery 2.0.21 posts an anonymous event on exit even with telemetry disabled (offline:
    // a ~12 s DNS wait), so the run ends once its --output file is written (resultsReady)
    const w = await measureWindow(this.url, process.execPath, [artilleryEntry(), 'run', '--output', out, script],
      { ...watch, resultsReady: () => readArtilleryOutput(out) !== undefined },
      { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' })
    const report = artilleryReport(readArtilleryOutput(out)!)
    return { ...w, users, ...(latency ? report : { p50: 0, p99: 0, failed: report.failed }) }
  }
}

export async function benchPeers (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const started = performance.now()
  const setup: PeersSetup = { artillery: ensureArtillery(), wrk: ensureWrk() }
  const loadBefore = loadAverage()
  const fixture = await startFixture(['--event-rate', String(EVENT_RATE), '--events-per-second', String(IO_PER_SOCKET)])
  const dir = mkdtempSync(join(tmpdir(), 'crosstalk-peers-'))
  let run: PeersRun
  try {
    run = new PeersRun(fixture.url, dir, writeTokens(dir, await login(fixture.url, STREAM_USERS)), setup.artillery.available, setup.wrk.available)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const group of Object.keys(GROUPS) as Group[]) {
        const members = GROUPS[group].filter(who => run.available(who))
        // rotate the order, so no contender always runs first (on the coldest or warmest machine)
        const shift = (round - 1) % members.length
        for (const who of [...members.slice(shift), ...members.slice(0, shift)]) {
          const t0 = performance.now()
          const s = await run.run(group, who).catch(async (e: unknown) => {
            log(`peers round ${round}/${ROUNDS} ${group} ${who} failed, retrying once: ${(e as Error).message}`)
            return await run.run(group, who)
          })
          const key = `${group}.${who}`
          run.samples.set(key, [...(run.samples.get(key) ?? []), s])
          log(`peers round ${round}/${ROUNDS} ${group} ${who}: ${fmt(s.work / s.seconds, 0)}/s, ${fmt(s.cpuUs / s.work, 2)} µs CPU per unit, ${fmt(s.peakRssKb / 1024, 0)} MB peak RSS, ${s.connected} connected, window ${fmt(s.seconds, 1)} s, run ${fmt((performance.now() - t0) / 1000, 1)} s`)
        }
      }
    }
  } finally {
    await closeStats()
    fixture.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const minutes = (performance.now() - started) / 60_000
  return peersResults(run.samples, setup, { before: loadBefore, after: loadAverage() }, minutes)
}

const perUnit = (xs: PeerSample[]): number[] => xs.map(s => s.cpuUs / s.work)

function compare (samples: Map<string, PeerSample[]>, group: Group, other: Contender): Comparison | null {
  const a = samples.get(`${group}.crosstalk`)
  const b = samples.get(`${group}.${other}`)
  if (a === undefined || b === undefined) return null
  return { ratio: pairedRatio(perUnit(a), perUnit(b)), byRound: perRound(perUnit(a), perUnit(b)) }
}

function peersResults (samples: Map<string, PeerSample[]>, setup: PeersSetup, load: { before: number, after: number }, minutes: number): { results: Record<string, unknown>, markdown: string } {
  const summaries: Record<string, Summary> = {}
  for (const [key, xs] of samples) summaries[key] = summarize(xs)
  const comparisons = {
    http50: { artillery: compare(samples, 'http50', 'artillery'), autocannon: compare(samples, 'http50', 'autocannon'), wrk: compare(samples, 'http50', 'wrk') },
    http1000: { artillery: compare(samples, 'http1000', 'artillery'), autocannon: compare(samples, 'http1000', 'autocannon'), wrk: compare(samples, 'http1000', 'wrk') },
    ws: { artillery: compare(samples, 'ws', 'artillery'), bare: compare(samples, 'ws', 'bare') },
    io: { artillery: compare(samples, 'io', 'artillery'), bare: compare(samples, 'io', 'bare') }
  }
  const met = (c: Comparison | null): boolean | null => c === null ? null : c.ratio.median <= ARTILLERY_GOAL
  const pick = (group: Group): Record<string, Summary> =>
    Object.fromEntries(Object.entries(summaries).filter(([k]) => k.startsWith(`${group}.`)).map(([k, v]) => [k.slice(group.length + 1), v]))
  const httpAt = (group: 'http50' | 'http1000'): Record<string, unknown> => ({
    ...pick(group),
    cpuPerRequestRatioVsArtillery: comparisons[group].artillery?.ratio ?? null,
    cpuPerRequestRatioVsAutocannon: comparisons[group].autocannon?.ratio ?? null,
    cpuPerRequestRatioVsWrk: comparisons[group].wrk?.ratio ?? null
  })
  const results = {
    runSeconds: RUN_SECONDS,
    minutes,
    setup,
    http: {
      // the headline ratios are at 50 users (the load the issue measured by hand); at1000Users alongside
      ...httpAt('http50'),
      artilleryGoal: ARTILLERY_GOAL,
      artilleryGoalMet: met(comparisons.http50.artillery),
      at1000Users: { ...httpAt('http1000'), artilleryGoalMet: met(comparisons.http1000.artillery) }
    },
    ws: { users: STREAM_USERS, offeredRate: EVENT_RATE, ...pick('ws'), cpuPerEventRatioVsArtillery: comparisons.ws.artillery?.ratio ?? null, cpuPerEventRatioVsBareWs: comparisons.ws.bare?.ratio ?? null, artilleryGoal: ARTILLERY_GOAL, artilleryGoalMet: met(comparisons.ws.artillery) },
    io: { users: STREAM_USERS, eventsPerSocketPerSecond: IO_PER_SOCKET, ...pick('io'), cpuPerEventRatioVsArtillery: comparisons.io.artillery?.ratio ?? null, cpuPerEventRatioVsBareSocketIoClient: comparisons.io.bare?.ratio ?? null },
    loadAverage: load
  }
  return { results, markdown: peersMarkdown(summaries, comparisons, setup, load, minutes) }
}
