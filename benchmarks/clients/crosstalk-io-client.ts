// crosstalk's Socket.IO receive path (io-scenario: one socket.io-client socket per user, every
// event scanned and accounted with extractors), in its own process. Prints {events, cpuUs,
// seconds, lost, p50, p99} over the steady window.
import { steadyRun } from './steady-run.js'

const [url, users, seconds, workers] = process.argv.slice(2)
const total = Number(seconds)
const sample = await steadyRun({
  scenario: new URL('./io-scenario.js', import.meta.url),
  target: url,
  users: Number(users),
  duration: `${total}s`,
  workers: Number(workers),
  setupTimeout: '60s'
}, total)
console.log(JSON.stringify(sample))
