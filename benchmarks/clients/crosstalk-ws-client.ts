// crosstalk's full WebSocket receive path on one socket per user, in its own process: the built-in
// events-rate scenario (crosstalk protocol: isolation scan, JSON, sequence accounting, latency HDR)
// or, with `extractors`, ws-extractors-scenario (a plain socket read with the scenario's
// extractors). Prints {events, cpuUs, seconds, lost, p50, p99} over the steady window.
import { steadyRun } from './steady-run.js'

const [url, users, seconds, workers, scenario = 'protocol'] = process.argv.slice(2)
const total = Number(seconds)
const sample = await steadyRun({
  scenario: scenario === 'extractors' ? new URL('./ws-extractors-scenario.js', import.meta.url) : 'events-rate',
  target: url,
  users: Number(users),
  duration: `${total}s`,
  workers: Number(workers)
}, total)
console.log(JSON.stringify(sample))
