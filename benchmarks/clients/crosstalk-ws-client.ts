// crosstalk's full receive path (isolation scan, JSON, sequence accounting, latency HDR) on one
// socket per user, in its own process. CPU and events are read over the steady window (from 1 s
// into the load phase to its last second), so logins, handshakes and pool start-up do not count.
// Prints {events, cpuUs, seconds, lost, p50, p99}.
import { run, type RunProgress } from '../../engine/index.js'

const [url, users, seconds, workers] = process.argv.slice(2)
const total = Number(seconds)
interface Mark { cpu: NodeJS.CpuUsage, events: number, at: number }
let from: Mark | undefined
let to: Mark | undefined
const mark = (p: RunProgress): Mark => ({ cpu: process.cpuUsage(), events: p.eventsReceived, at: performance.now() })
const r = await run({
  scenario: 'events-rate',
  target: url,
  users: Number(users),
  duration: `${total}s`,
  workers: Number(workers),
  onProgress: (p) => {
    if (p.phase !== 'load') return
    if (from === undefined && p.elapsedS >= 1) from = mark(p)
    else if (from !== undefined && to === undefined && p.elapsedS >= total - 1) to = mark(p)
  }
})
if (from === undefined || to === undefined) throw new Error('run too short for a steady window')
const steadyCpu = (to.cpu.user - from.cpu.user) + (to.cpu.system - from.cpu.system)
const lat = r.metrics['ws.event.latency']
console.log(JSON.stringify({
  events: to.events - from.events,
  cpuUs: steadyCpu,
  seconds: (to.at - from.at) / 1000,
  lost: r.events.lost,
  p50: lat?.type === 'trend' ? lat.med : 0,
  p99: lat?.type === 'trend' ? lat.p99 : 0
}))
