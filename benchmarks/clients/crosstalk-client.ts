// One crosstalk run in its own process (main + worker threads); prints the same JSON as the
// autocannon client. Each virtual user is a full context: own Client, cookie jar, metrics.
import { run } from '../../engine/index.js'

const [url, users, seconds, workers, scenario = 'health', scan = 'on'] = process.argv.slice(2)
const before = process.cpuUsage()
const r = await run({
  scenario: new URL(`./${scenario}-scenario.js`, import.meta.url),
  isolation: { scan: scan === 'on' },
  target: url,
  users: Number(users),
  duration: `${seconds}s`,
  workers: Number(workers)
})
const cpu = process.cpuUsage(before) // all threads of this process
const d = r.metrics['http.req.duration']
const failed = r.metrics['http.req.failed']
console.log(JSON.stringify({
  requests: (r.metrics['http.reqs'] as { count: number }).count,
  cpuUs: cpu.user + cpu.system,
  p50: d?.type === 'trend' ? d.med : 0,
  p99: d?.type === 'trend' ? d.p99 : 0,
  failed: failed?.type === 'rate' ? failed.passes : 0
}))
