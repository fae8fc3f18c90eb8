// The peers section of RESULTS.md: one table per workload, the paired ratios with their goals, and
// how it was measured.
import { fmt, loadNote, show } from './lib.js'
import { ARTILLERY_GOAL, EVENT_RATE, IO_PER_SOCKET, RUN_SECONDS, STREAM_USERS, type Comparison, type Contender, type Group, type PeersSetup, type Summary } from './peers-config.js'

type Comparisons = {
  http50: Record<'artillery' | 'autocannon' | 'wrk', Comparison | null>
  http1000: Record<'artillery' | 'autocannon' | 'wrk', Comparison | null>
  ws: Record<'artillery' | 'bare', Comparison | null>
  io: Record<'artillery' | 'bare', Comparison | null>
}

const ratioLine = (what: string, c: Comparison | null, goal?: number): string => c === null
  ? `${what}: not measured (see set-up below).`
  : `${what}: **${show(c.ratio, 3)}**${goal === undefined ? '' : ` (goal <= ${goal}: ${c.ratio.median <= goal ? 'met' : 'not met'})`}; by round: ${c.byRound}.`

function labels (setup: PeersSetup): Record<Group, Partial<Record<Contender, string>>> {
  const art = setup.artillery.available ? `Artillery ${setup.artillery.version}` : 'Artillery'
  const wrk = setup.wrk.available ? setup.wrk.version : 'wrk'
  const ct = 'crosstalk (`run()`, 1 worker thread, full per-user contexts, scanning on)'
  const http = { crosstalk: ct, artillery: `${art} (its default of 1 worker here; VUs loop GET /health, one agent each)`, autocannon: 'autocannon 9', wrk: `${wrk} (2 threads)` }
  return {
    http50: http,
    http1000: http,
    ws: {
      crosstalk: 'crosstalk (events-rate scenario: crosstalk protocol, isolation scan, JSON, sequence accounting, latency HDR)',
      artillery: `${art} ws engine (connect, then hold the socket: frames read by \`ws\` 7, not parsed or counted)`,
      bare: 'bare `ws` client (JSON.parse per frame)'
    },
    io: {
      crosstalk: 'crosstalk (`user.io()` with extractors: scan, sequence accounting, latency HDR)',
      artillery: `${art} socketio engine (one socket per VU, forceNew; counts every event)`,
      bare: 'bare `socket.io-client` loop (one Manager per socket)'
    }
  }
}

function httpTable (s: Record<string, Summary>, group: 'http50' | 'http1000', label: Partial<Record<Contender, string>>): string {
  const rows = (['crosstalk', 'artillery', 'autocannon', 'wrk'] as const).flatMap((who) => {
    const x = s[`${group}.${who}`]
    return x === undefined ? [] : [`| ${label[who]} | ${show(x.cpuPerUnit, 2)} | ${show(x.perSecond, 0)} | ${show(x.p50, 2)} | ${show(x.p99, 2)} | ${show(x.rssPerUserKb, 1)} | ${show(x.connected, 0)} | ${x.failed} |`]
  })
  return `| client | CPU per request (µs) | requests/s | p50 (ms) | p99 (ms) | peak RSS per user (KB) | connections at window start | failed |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}`
}

function eventTable (s: Record<string, Summary>, group: 'ws' | 'io', label: Partial<Record<Contender, string>>): string {
  const rows = (['crosstalk', 'artillery', 'bare'] as const).flatMap((who) => {
    const x = s[`${group}.${who}`]
    return x === undefined ? [] : [`| ${label[who]} | ${show(x.cpuPerUnit, 2)} | ${show(x.perSecond, 0)} | ${show(x.rssPerUserKb, 1)} |`]
  })
  return `| client | CPU per event (µs) | events/s | peak RSS per user (KB) |
|---|---|---|---|
${rows.join('\n')}`
}

export function peersMarkdown (s: Record<string, Summary>, c: Comparisons, setup: PeersSetup, load: { before: number, after: number }, minutes: number): string {
  const label = labels(setup)
  const httpRatios = (group: 'http50' | 'http1000'): string => [
    ratioLine('CPU per request, crosstalk / Artillery, paired by round', c[group].artillery, ARTILLERY_GOAL),
    ratioLine('crosstalk / autocannon', c[group].autocannon, 1.0),
    ratioLine('crosstalk / wrk', c[group].wrk)
  ].join('\n')
  return `## Peers: crosstalk, Artillery, autocannon and wrk on the same fixture

Each contender is its own process against the one fixture process of this section, in rotating
order within each round. Unlike the sections above, every contender here is measured from
outside, the same way for all: CPU is user + system time of its process tree (all threads, read
from \`/proc/<pid>/stat\`), work is what the fixture counted (GET /health probes answered,
WebSocket events written, Socket.IO events emitted), both read over a steady window from 1 s
after all users are connected to ${fmt(RUN_SECONDS - 1.5, 1)} s after (runs of ${RUN_SECONDS} s). So module loading, worker
pools, logins, handshakes and shutdown count for no one. Artillery's users arrive over its first
second (on this box its arrivals, sharing the worker with the traffic, took up to ~5 s for 1000),
so each of them loops until ${RUN_SECONDS} s after the last one arrived (a \`whileTrue\` function): all its
users run together for the window, like everyone else's. Peak RSS is the sum of each process's
VmHWM (whole run) divided by the users. p50 and p99 are each tool's own figures for the whole run.
wrk opens all its connections at once and floods the fixture through the first ones, which then
accepted the rest at ~70 per second here: at 1000 users its window starts 3 s after its start
whatever is connected (the column says how many), and wrk and autocannon run 3 s longer at 1000
users to leave time to connect.

### HTTP, 50 users (\`GET /health\` in a loop, each user its own connection)

${httpTable(s, 'http50', label.http50)}

${httpRatios('http50')}

### HTTP, 1000 users

${httpTable(s, 'http1000', label.http1000)}

${httpRatios('http1000')}

### WebSocket, ${STREAM_USERS} sockets (${fmt(EVENT_RATE, 0)} events/s offered in total)

${eventTable(s, 'ws', label.ws)}

${ratioLine('CPU per event, crosstalk / Artillery, paired by round', c.ws.artillery, ARTILLERY_GOAL)}
${ratioLine('crosstalk / bare ws', c.ws.bare, 1.15)}
Artillery's WS engine cannot read a stream of messages: its only receive step (\`wait\` with
\`capture\`/\`match\`) answers one message, and with frames arriving back to back the worker dies
with "Callback was already called" (tried here). So its users hold the socket and \`ws\` reads the
frames with nobody looking at them: no JSON, no count, no latency. Even so it measured about
twice the bare client's CPU per event here; crosstalk, doing far more per event, is ~0.6x it, and
the 0.1 goal (set before Artillery's WS engine was measured) is out of reach of any client that
reads the events: the bare loop itself is ~0.5x Artillery.

### Socket.IO, ${STREAM_USERS} sockets (${IO_PER_SOCKET} events/s each)

${eventTable(s, 'io', label.io)}

${ratioLine('CPU per event, crosstalk / Artillery, paired by round', c.io.artillery)}
${ratioLine('crosstalk / bare socket.io-client', c.io.bare, 1.2)}

### Set-up and time

- Artillery: ${setup.artillery.note}. It lives in \`benchmarks/peers/\` (its own package.json, pinned
  to 2.0.21, the last 2.x whose engines accept Node 20; \`npm install --ignore-scripts\` with
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1), never in crosstalk's dependencies. It posts an anonymous
  event on exit even with ARTILLERY_DISABLE_TELEMETRY set (offline, a ~12 s DNS wait): each run
  is stopped once its \`--output\` file is written.
- wrk: ${setup.wrk.note}.
- This section took ${fmt(minutes, 1)} minutes.

${loadNote(load.before, load.after)}
`
}
