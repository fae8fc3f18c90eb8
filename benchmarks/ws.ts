// WebSocket event dispatch: CPU per received event of crosstalk's full receive path (its own
// stream protocol, and a plain socket read with extractors) vs a bare `ws` client loop on the same
// server, and the highest event rate crosstalk sustains here.
import { ROUNDS, SECONDS, fmt, loadAverage, loadNote, log, pairedRatio, perRound, runClient, show, startFixture, stat } from './lib.js'

const USERS = 1000
const RATE = 40_000 // events per second, summed over all sockets
// from 40k/s: 10k and 20k were lossless in the runs of 2026-11-30 and 2026-12-01 (bench time)
const STEPS = [40_000, 80_000, 160_000]
const GOAL = 1.15
const ORDER = ['crosstalk', 'extractors', 'bare'] as const
type Contender = typeof ORDER[number]

interface Sample { events: number, cpuUs: number, seconds: number, lost?: number, p50?: number, p99?: number }

export async function benchWs (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const loadBefore = loadAverage()
  const fixture = await startFixture(['--event-rate', String(RATE)])
  const samples: Record<Contender, Sample[]> = { crosstalk: [], extractors: [], bare: [] }
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const who of round % 2 === 1 ? ORDER : [...ORDER].reverse()) {
        const s = who === 'bare'
          ? runClient<Sample>('./clients/bare-ws-client.js', [fixture.url, String(USERS), String(SECONDS)])
          : runClient<Sample>('./clients/crosstalk-ws-client.js', [fixture.url, String(USERS), String(SECONDS), '1', who === 'crosstalk' ? 'protocol' : 'extractors'])
        samples[who].push(s)
        log(`ws round ${round}/${ROUNDS} ${who}: ${fmt(s.events, 0)} events, ${fmt(s.cpuUs / s.events, 2)} µs CPU/event`)
      }
    }
  } finally {
    fixture.stop()
  }
  const perEvent = (xs: Sample[]): number[] => xs.map(s => s.cpuUs / s.events)
  const ct = stat(perEvent(samples.crosstalk))
  const ex = stat(perEvent(samples.extractors))
  const bare = stat(perEvent(samples.bare))
  const ratio = pairedRatio(perEvent(samples.crosstalk), perEvent(samples.bare))
  const exRatio = pairedRatio(perEvent(samples.extractors), perEvent(samples.bare))
  const ctLost = samples.crosstalk.reduce((n, s) => n + (s.lost ?? 0), 0)
  const exLost = samples.extractors.reduce((n, s) => n + (s.lost ?? 0), 0)
  const verdict = (r: typeof ratio): string => r.median <= GOAL ? 'met' : 'not met'

  // Highest sustained rate: one crosstalk run per offered rate; sustained = everything offered
  // arrived (no loss) at >= 95% of the offered rate.
  const steps: Array<{ offered: number, received: number, lost: number, p50: number, p99: number }> = []
  for (const offered of STEPS) {
    const f = await startFixture(['--event-rate', String(offered)])
    try {
      const s = runClient<Sample>('./clients/crosstalk-ws-client.js', [f.url, String(USERS), String(Math.max(SECONDS, 6)), '1'])
      const received = s.events / s.seconds
      steps.push({ offered, received, lost: s.lost ?? 0, p50: s.p50 ?? 0, p99: s.p99 ?? 0 })
      log(`ws rate ${offered}/s: received ${fmt(received, 0)}/s, lost ${s.lost}, p99 ${fmt(s.p99 ?? 0, 2)} ms`)
    } finally {
      f.stop()
    }
  }
  const sustained = steps.filter(s => s.lost === 0 && s.received >= s.offered * 0.95).at(-1)
  const loadAfter = loadAverage()

  const markdown = `## WebSocket events: client CPU per received event (${USERS} sockets, ${fmt(RATE, 0)} events/s offered in total, ${SECONDS} s per run)

| client | CPU per event (µs) | events per run |
|---|---|---|
| crosstalk (events-rate scenario, 1 worker thread: isolation scan, JSON, sequence accounting, latency HDR) | ${show(ct, 2)} | ${show(stat(samples.crosstalk.map(s => s.events)), 0)} |
| crosstalk, plain socket with extractors (\`events: { stream, seq, sentAt }\` on \`m.json()\`, no crosstalk protocol) | ${show(ex, 2)} | ${show(stat(samples.extractors.map(s => s.events)), 0)} |
| bare \`ws\` client (JSON.parse per frame) | ${show(bare, 2)} | ${show(stat(samples.bare.map(s => s.events)), 0)} |

CPU per event / bare ws, paired by round: crosstalk protocol **${show(ratio, 2)}** (goal <= ${GOAL}x: ${verdict(ratio)}; by round: ${perRound(perEvent(samples.crosstalk), perEvent(samples.bare))});
plain socket with extractors **${show(exRatio, 2)}** (goal <= ${GOAL}x: ${verdict(exRatio)}; by round: ${perRound(perEvent(samples.extractors), perEvent(samples.bare))}).
Events lost over all rounds: crosstalk protocol ${ctLost} (reconciled with the server); extractors ${exLost} (gaps seen).
Both figures are read over the steady window (from 1 s after all sockets are open to 1 s before the
end), so logins, handshakes and crosstalk's pool start-up are excluded; events counted in that window.

### Sustained event rate (crosstalk, ${USERS} sockets, fixture in its own process)

Received events/s are over the steady window; latency percentiles are over the whole run.

| offered events/s | received events/s | lost | latency p50 (ms) | latency p99 (ms) |
|---|---|---|---|---|
${steps.map(s => `| ${fmt(s.offered, 0)} | ${fmt(s.received, 0)} | ${s.lost} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} |`).join('\n')}

Highest sustained (no loss, >= 95% of offered): **${sustained === undefined ? 'none of the steps' : `${fmt(sustained.received, 0)} events/s`}**.

${loadNote(loadBefore, loadAfter)}
`
  return {
    results: { users: USERS, offeredRate: RATE, crosstalk: ct, crosstalkExtractors: ex, bareWs: bare, cpuPerEventRatioVsBareWs: ratio, extractorsCpuPerEventRatioVsBareWs: exRatio, goal: GOAL, rateSteps: steps, sustainedEventsPerSecond: sustained?.received ?? null, loadAverage: { before: loadBefore, after: loadAfter } },
    markdown
  }
}
