// One crosstalk HTTP run (health scenario: one GET /health per iteration, one connection per user)
// with a given number of worker threads, in its own process. Figures are over the steady window,
// so pool start-up (which grows with the thread count) does not count: requests/s from the run's
// per-second series (whole seconds from 1 s into the load phase to 1 s before its end), CPU (all
// threads, process.cpuUsage()) between progress marks over about the same span.
// The fixture's CPU is read from /proc/<fixturePid>/stat at the same marks.
// Prints {rps, cpuUsPerS, cpuPerReqUs, serverCpuUsPerS, p50, p99, failed, threads, steadySeconds}.
import { readFileSync } from 'node:fs'
import { run, type RunProgress } from '../../engine/index.js'

const [url, users, seconds, workers, fixturePid] = process.argv.slice(2)
const total = Number(seconds)
/** utime + stime of a process in µs (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms) */
function processCpuUs (pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from the 3rd on
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}
interface Mark { cpu: NodeJS.CpuUsage, server: number, at: number }
let from: Mark | undefined
let to: Mark | undefined
const mark = (): Mark => ({ cpu: process.cpuUsage(), server: fixturePid === undefined ? 0 : processCpuUs(fixturePid), at: performance.now() })
const r = await run({
  scenario: new URL('./health-scenario.js', import.meta.url),
  target: url,
  users: Number(users),
  duration: `${total}s`,
  workers: Number(workers),
  onProgress: (p: RunProgress) => {
    if (p.phase !== 'load') return
    if (from === undefined && p.elapsedS >= 1) from = mark()
    else if (from !== undefined && to === undefined && p.elapsedS >= total - 1) to = mark()
  }
})
if (from === undefined || to === undefined) throw new Error('run too short for a steady window')
const first = Math.ceil(r.loadWindow.startS) + 1
const last = Math.floor(r.loadWindow.endS) - 1 // exclusive: bucket t covers [t, t + 1)
const steady = r.timeSeries.filter(p => p.t >= first && p.t < last)
if (steady.length === 0) throw new Error('no whole second in the steady window')
const rps = steady.reduce((n, p) => n + (p.counters['http.reqs'] ?? 0), 0) / steady.length
const windowS = (to.at - from.at) / 1000
const cpuUsPerS = ((to.cpu.user - from.cpu.user) + (to.cpu.system - from.cpu.system)) / windowS
const d = r.metrics['http.req.duration']
const failed = r.metrics['http.req.failed']
console.log(JSON.stringify({
  rps,
  cpuUsPerS,
  cpuPerReqUs: cpuUsPerS / rps,
  serverCpuUsPerS: (to.server - from.server) / windowS,
  p50: d?.type === 'trend' ? d.med : 0,
  p99: d?.type === 'trend' ? d.p99 : 0,
  failed: failed?.type === 'rate' ? failed.passes : 0,
  threads: r.workers.threads,
  steadySeconds: steady.length
}))
