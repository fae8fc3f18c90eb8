// Socket.IO event receive path: CPU per received event of crosstalk (io-scenario: scan, extractors,
// latency HDR) vs a bare socket.io-client loop on the same fixture, 1000 sockets each.
import { ROUNDS, SECONDS, fmt, loadAverage, loadNote, log, pairedRatio, perRound, runClient, show, startFixture, stat } from './lib.js'

const USERS = 1000
// the fixture's Socket.IO endpoint has only a per-socket rate (--event-rate is for /events only):
// 20/s on each of 1000 sockets is 20k events/s in total
const PER_SOCKET = 20
const GOAL = 1.2

interface Sample { events: number, cpuUs: number, seconds: number, lost?: number, p50?: number, p99?: number }

export async function benchIo (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const loadBefore = loadAverage()
  const fixture = await startFixture(['--events-per-second', String(PER_SOCKET)])
  const samples: Record<'crosstalk' | 'bare', Sample[]> = { crosstalk: [], bare: [] }
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const who of round % 2 === 1 ? ['crosstalk', 'bare'] as const : ['bare', 'crosstalk'] as const) {
        const s = who === 'crosstalk'
          ? runClient<Sample>('./clients/crosstalk-io-client.js', [fixture.url, String(USERS), String(SECONDS), '1'])
          : runClient<Sample>('./clients/bare-io-client.js', [fixture.url, String(USERS), String(SECONDS)])
        samples[who].push(s)
        log(`io round ${round}/${ROUNDS} ${who}: ${fmt(s.events, 0)} events, ${fmt(s.cpuUs / s.events, 2)} µs CPU/event`)
      }
    }
  } finally {
    fixture.stop()
  }
  const loadAfter = loadAverage()
  const perEvent = (xs: Sample[]): number[] => xs.map(s => s.cpuUs / s.events)
  const ct = stat(perEvent(samples.crosstalk))
  const bare = stat(perEvent(samples.bare))
  const ratio = pairedRatio(perEvent(samples.crosstalk), perEvent(samples.bare))
  const ctLost = samples.crosstalk.reduce((n, s) => n + (s.lost ?? 0), 0)
  const met = ratio.median <= GOAL

  const markdown = `## Socket.IO events: client CPU per received event (${USERS} sockets, ${PER_SOCKET} events/s each, ${fmt(USERS * PER_SOCKET, 0)} events/s in total, ${SECONDS} s per run)

| client | CPU per event (µs) | events per run |
|---|---|---|
| crosstalk (\`user.io()\` with extractors, 1 worker thread: isolation scan, sequence accounting, latency HDR) | ${show(ct, 2)} | ${show(stat(samples.crosstalk.map(s => s.events)), 0)} |
| bare \`socket.io-client\` loop (one Manager per socket, counts each event and touches its payload) | ${show(bare, 2)} | ${show(stat(samples.bare.map(s => s.events)), 0)} |

CPU per event, crosstalk / bare socket.io-client, paired by round: **${show(ratio, 2)}** (goal <= ${GOAL}x: ${met ? 'met' : 'not met'}); by round: ${perRound(perEvent(samples.crosstalk), perEvent(samples.bare))}. Events lost (gaps seen) by crosstalk over all rounds: ${ctLost}.
Both figures are read over the steady window (from 1 s after all sockets are open to 1 s before the
end), so logins, handshakes and crosstalk's pool start-up are excluded; events counted in that window.
${loadNote(loadBefore, loadAfter)}
`
  return {
    results: { users: USERS, eventsPerSocketPerSecond: PER_SOCKET, crosstalk: ct, bareSocketIoClient: bare, cpuPerEventRatioVsBareSocketIoClient: ratio, goal: GOAL, goalMet: met, loadAverage: { before: loadBefore, after: loadAfter } },
    markdown
  }
}
