// How each peer is started and how its own report is read: Artillery scripts (HTTP, WebSocket,
// Socket.IO engines) written to a temporary folder, its --output JSON, and wrk's text output.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Latency and failures as a tool reports them itself (whole run, in ms). */
export interface ToolReport { p50: number, p99: number, failed: number }

// ---- Artillery ----

/** Every user arrives within the first second, as crosstalk's users all start at once. */
const phases = (users: number): unknown => [{ duration: 1, arrivalCount: users }]

/**
 * Artillery cannot start 1000 looping users at once: its arrivals share the worker with the
 * traffic, and with the first users looping here they came ~6 per second. So every user first
 * waits (\`waitForStart\`, 0.1 s thinks) until 1.5 s after the first one arrived (the arrival phase
 * is 1 s), then loops (\`keepLooping\`) until \`seconds\` after that start: all users run together,
 * like crosstalk's for the run's duration. The start is per worker, so this holds with several.
 * Users that only hold a socket (\`keepHolding\`) connect as they arrive and hold it until
 * \`seconds\` after the last one arrived.
 */
function writeProcessor (dir: string, seconds: number): string {
  const path = join(dir, 'processor.js')
  writeFileSync(path, `// written by benchmarks/peer-tools.ts
let start
const begun = () => {
  if (start === undefined) start = Date.now() + 1500
  return start
}
let lastArrival = 0
module.exports = {
  waitForStart (context, next) { next(Date.now() < begun()) },
  keepLooping (context, next) { next(Date.now() < begun() + ${seconds * 1000}) },
  keepHolding (context, next) {
    if (context.vars.arrivedAt === undefined) lastArrival = context.vars.arrivedAt = Date.now()
    next(Date.now() < lastArrival + ${seconds * 1000})
  }
}
`)
  return path
}

const waitForStart = { loop: [{ think: 0.1 }], whileTrue: 'waitForStart' }

/** HTTP: each virtual user (its own connection: no \`http.pool\`) loops GET /health. */
export function artilleryHttpScript (dir: string, url: string, users: number, seconds: number): string {
  const path = join(dir, `http-${users}.json`)
  writeFileSync(path, JSON.stringify({
    config: { target: url, phases: phases(users), processor: writeProcessor(dir, seconds) },
    scenarios: [{ flow: [waitForStart, { loop: [{ get: { url: '/health' } }], whileTrue: 'keepLooping' }] }]
  }, null, 2))
  return path
}

/** The tokens of users logged in beforehand, one per virtual user (a CSV payload read in order). */
export function writeTokens (dir: string, tokens: string[]): string {
  const path = join(dir, 'tokens.csv')
  writeFileSync(path, tokens.join('\n') + '\n')
  return path
}

const payload = (tokens: string): unknown => ({ path: tokens, fields: ['token'], order: 'sequence' })
const hold = { loop: [{ think: 0.5 }], whileTrue: 'keepHolding' }

/**
 * WebSocket engine: each user opens /events with its token and holds it. Artillery's WS engine
 * has no receive loop: a \`wait\` step per message fails with "Callback was already called" once
 * frames arrive back to back, so the events are read by \`ws\` and not looked at.
 */
export function artilleryWsScript (dir: string, url: string, tokens: string, users: number, seconds: number): string {
  const path = join(dir, 'ws.json')
  const ws = url.replace(/^http/, 'ws')
  writeFileSync(path, JSON.stringify({
    config: { target: ws, phases: phases(users), payload: payload(tokens), processor: writeProcessor(dir, seconds) },
    scenarios: [{ engine: 'ws', flow: [{ connect: `${ws}/events?token={{ token }}` }, hold] }]
  }, null, 2))
  return path
}

/**
 * Socket.IO engine: one socket per user (forceNew, WebSocket transport, the token in the
 * handshake's auth), held; Artillery counts every event it receives. The options sit on the
 * scenario: in \`config\` Artillery templates them once at load time, before the payload.
 */
export function artilleryIoScript (dir: string, url: string, tokens: string, users: number, seconds: number): string {
  const path = join(dir, 'io.json')
  writeFileSync(path, JSON.stringify({
    config: { target: url, phases: phases(users), payload: payload(tokens), processor: writeProcessor(dir, seconds) },
    scenarios: [{
      engine: 'socketio',
      socketio: { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: '{{ token }}' } },
      flow: [hold]
    }]
  }, null, 2))
  return path
}

interface ArtilleryOutput {
  aggregate: {
    counters: Record<string, number>
    summaries: Record<string, { p50?: number, median?: number, p99?: number } | undefined>
  }
}

/** Artillery's --output file, once it is complete (it is written in one piece before shutdown). */
export function readArtilleryOutput (path: string): ArtilleryOutput | undefined {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ArtilleryOutput
  } catch {
    return undefined // still being written
  }
}

export function artilleryReport (out: ArtilleryOutput): ToolReport {
  const { counters, summaries } = out.aggregate
  const rt = summaries['http.response_time']
  const errors = Object.entries(counters).filter(([k]) => k.startsWith('errors.')).reduce((n, [, v]) => n + v, 0)
  const non2xx = Object.entries(counters).filter(([k]) => /^http\.codes\.[^2]/.test(k)).reduce((n, [, v]) => n + v, 0)
  return { p50: rt?.p50 ?? rt?.median ?? 0, p99: rt?.p99 ?? 0, failed: errors + non2xx + (counters['vusers.failed'] ?? 0) }
}

// ---- wrk ----

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function wrkDuration (text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text)
  if (m === null) throw new Error(`wrk: unreadable latency ${text}`)
  return Number(m[1]) * UNIT_MS[m[2]!]!
}

/** `wrk --latency` output: its 50% and 99% lines, non-2xx/3xx responses and socket errors. */
export function wrkReport (out: string): ToolReport & { requests: number } {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)
    if (m === null) throw new Error(`wrk: no ${p}% latency line in:\n${out}`)
    return wrkDuration(m[1]!)
  }
  const requests = /^\s*(\d+) requests in/m.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((n, v) => n + Number(v), 0)
  return { p50: pct('50'), p99: pct('99'), failed: Number(non2xx?.[1] ?? 0) + socketErrors, requests: Number(requests?.[1] ?? 0) }
}
