// One leak-detection run of crosstalk in its own process (1000 users by default). argv[2] is a
// JSON object: {fixture?: string[] (planted leaks; [] for the clean fixture) | server?: string
// (session-server.js arguments, run as a cmd: target), users, seconds, readings?: 'quiet' |
// 'under-load' | 'off', diff?: 'auto' | 'always' | 'off'}. The fixture runs in its own process
// even without leak readings, so runs with and without them load the same server. Prints {leaks, rps, steadySeconds,
// requests, maxRssMb} as JSON: requests/s over whole seconds from 1 s into the load phase to 1 s
// before its end; maxRssMb is this process's peak RSS (load workers and heap-diff analysis).
import { run } from '../../engine/index.js'

interface Job { fixture?: string[], server?: string, users: number, seconds: number, readings?: 'quiet' | 'under-load' | 'off', diff?: 'auto' | 'always' | 'off' }
const job = JSON.parse(process.argv[2] ?? '{}') as Job
const server = new URL('./session-server.js', import.meta.url).pathname
const leaks = job.readings === 'off' ? false : { readings: job.readings ?? 'quiet', diff: job.diff ?? 'auto' }
const r = await run({
  ...(job.fixture !== undefined
    ? { scenario: 'soak', fixture: { process: 'child' as const, leaks: job.fixture as Array<'bounded-cache'> } }
    : { scenario: new URL('./health-scenario.js', import.meta.url), target: `cmd:${process.execPath} ${server} ${job.server ?? ''}` }),
  users: job.users,
  duration: `${job.seconds}s`,
  workers: 2,
  leaks
})
const first = Math.ceil(r.loadWindow.startS) + 1
const last = Math.floor(r.loadWindow.endS) - 1
const steady = r.timeSeries.filter(p => p.t >= first && p.t < last)
const reqs = r.metrics['http.reqs']
console.log(JSON.stringify({
  leaks: r.leaks ?? null,
  rps: steady.reduce((n, p) => n + (p.counters['http.reqs'] ?? 0), 0) / Math.max(1, steady.length),
  steadySeconds: steady.length,
  requests: reqs?.type === 'counter' ? reqs.count : 0,
  maxRssMb: process.resourceUsage().maxRSS / 1024
}))
