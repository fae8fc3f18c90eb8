// crosstalk's full receive path (isolation scan, JSON, sequence accounting, latency HDR) on one
// socket per user, in its own process. Prints {events, cpuUs, lost, p50, p99, seconds}.
import { run } from '../../engine/index.js'

const [url, users, seconds, workers] = process.argv.slice(2)
const before = process.cpuUsage()
const started = performance.now()
const r = await run({ scenario: 'events-rate', target: url, users: Number(users), duration: `${seconds}s`, workers: Number(workers) })
const cpu = process.cpuUsage(before)
const lat = r.metrics['ws.event.latency']
console.log(JSON.stringify({
  events: r.events.received,
  cpuUs: cpu.user + cpu.system,
  lost: r.events.lost,
  loadSeconds: r.loadDurationMs / 1000,
  seconds: (performance.now() - started) / 1000,
  p50: lat?.type === 'trend' ? lat.med : 0,
  p99: lat?.type === 'trend' ? lat.p99 : 0
}))
