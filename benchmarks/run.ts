// `npm run bench`: load generators measured side by side against the same fixture process, in
// alternating rounds so machine drift hits both; medians with their spread, and ratios.
// Writes benchmarks/RESULTS.md and benchmarks/results.json. Loopback only.
import { spawn, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONNECTIONS = 50
const OUT_DIR = fileURLToPath(new URL('../../benchmarks/', import.meta.url))
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))

interface Sample { requests: number, cpuUs: number, p50: number, p99: number, failed: number }

function startFixture (): Promise<{ url: string, stop: () => void }> {
  const child = spawn(process.execPath, [here('../fixtures/child.js'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve({ url: (JSON.parse(line) as { url: string }).url, stop: () => child.kill('SIGTERM') })
    })
    child.once('exit', code => reject(new Error(`fixture exited ${code}`)))
  })
}

function runClient (script: string, args: string[]): Sample {
  const out = execFileSync(process.execPath, [here(script), ...args], { encoding: 'utf8', timeout: (SECONDS + 60) * 1000 })
  return JSON.parse(out.trim().split('\n').at(-1)!) as Sample
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const fmt = (v: number, d = 1): string => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
interface Stat { median: number, min: number, max: number }
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })
const show = (s: Stat, d = 1): string => `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`

type Contender = 'crosstalk' | 'autocannon' | 'scanOn' | 'scanOff'
const fixture = await startFixture()
const samples: Record<Contender, Sample[]> = { crosstalk: [], autocannon: [], scanOn: [], scanOff: [] }
const args = (scenario: string, scan: string): string[] => [fixture.url, String(CONNECTIONS), String(SECONDS), '1', scenario, scan]
const contenders: Record<Contender, () => Sample> = {
  crosstalk: () => runClient('./clients/crosstalk-client.js', args('health', 'on')),
  autocannon: () => runClient('./clients/autocannon-client.js', [`${fixture.url}/health`, String(CONNECTIONS), String(SECONDS)]),
  scanOn: () => runClient('./clients/crosstalk-client.js', args('me', 'on')),
  scanOff: () => runClient('./clients/crosstalk-client.js', args('me', 'off'))
}
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // pairs run back to back, in alternating order, so neither side always gets the warmer machine
    for (const pair of [['crosstalk', 'autocannon'], ['scanOn', 'scanOff']] as const) {
      for (const who of round % 2 === 1 ? pair : [pair[1], pair[0]]) {
        const s = contenders[who]()
        samples[who].push(s)
        process.stderr.write(`round ${round}/${ROUNDS} ${who}: ${fmt(s.requests / SECONDS, 0)} req/s, ${fmt(s.cpuUs / s.requests, 2)} µs CPU/req\n`)
      }
    }
  }
} finally {
  fixture.stop()
}

const summarize = (xs: Sample[]): { cpuPerReq: Stat, rps: Stat, p50: Stat, p99: Stat, failed: number } => ({
  cpuPerReq: stat(xs.map(s => s.cpuUs / s.requests)),
  rps: stat(xs.map(s => s.requests / SECONDS)),
  p50: stat(xs.map(s => s.p50)),
  p99: stat(xs.map(s => s.p99)),
  failed: xs.reduce((n, s) => n + s.failed, 0)
})
const ct = summarize(samples.crosstalk)
const ac = summarize(samples.autocannon)
const perReq = (s: Sample): number => s.cpuUs / s.requests
const pairedRatio = (a: Sample[], b: Sample[]): Stat => stat(a.map((s, i) => perReq(s) / perReq(b[i]!)))
const ratio = pairedRatio(samples.crosstalk, samples.autocannon)
const scanOn = summarize(samples.scanOn)
const scanOff = summarize(samples.scanOff)
const scanRatio = pairedRatio(samples.scanOn, samples.scanOff)
const scanCost = stat(samples.scanOn.map((s, i) => perReq(s) - perReq(samples.scanOff[i]!)))

let wrk = 'not installed'
try { wrk = execFileSync('wrk', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'installed' } catch { /* optional peer */ }
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`

const results = {
  date: new Date().toISOString(),
  machine,
  rounds: ROUNDS,
  secondsPerRun: SECONDS,
  connections: CONNECTIONS,
  http: {
    crosstalk: ct,
    autocannon: ac,
    cpuPerRequestRatioVsAutocannon: ratio
  },
  isolationScan: {
    on: scanOn,
    off: scanOff,
    cpuPerRequestRatioOnVsOff: scanRatio,
    cpuPerRequestCostUs: scanCost
  }
}
writeFileSync(`${OUT_DIR}results.json`, JSON.stringify(results, null, 2) + '\n')

const md = `# Benchmarks

Generated by \`npm run bench\` on ${results.date.slice(0, 10)}. Machine: ${machine}.
Each figure is the median of ${ROUNDS} rounds with the range (min–max) in parentheses; the tools
run in alternating order within each round against the same fixture process (\`fixtures/child.js\`,
its own process). Each client runs in its own process and its CPU (user + system, all threads)
is read with \`process.cpuUsage()\` around the run.

## HTTP: client CPU per request (${CONNECTIONS} connections, \`GET /health\`, ${SECONDS} s per run)

| client | CPU per request (µs) | requests/s | p50 (ms) | p99 (ms) | failed |
|---|---|---|---|---|---|
| crosstalk (${CONNECTIONS} users, 1 worker thread, full per-user contexts) | ${show(ct.cpuPerReq, 2)} | ${show(ct.rps, 0)} | ${show(ct.p50, 2)} | ${show(ct.p99, 2)} | ${ct.failed} |
| autocannon 9 (${CONNECTIONS} connections) | ${show(ac.cpuPerReq, 2)} | ${show(ac.rps, 0)} | ${show(ac.p50, 2)} | ${show(ac.p99, 2)} | ${ac.failed} |

CPU per request, crosstalk / autocannon, paired by round: **${show(ratio, 2)}** (goal <= 1.0).
wrk: ${wrk}.

## Isolation scanning: cost per request (crosstalk, ${CONNECTIONS} users, \`GET /me\`, each response carrying the user's canary)

| crosstalk | CPU per request (µs) | requests/s | p50 (ms) | p99 (ms) |
|---|---|---|---|---|
| scanning on | ${show(scanOn.cpuPerReq, 2)} | ${show(scanOn.rps, 0)} | ${show(scanOn.p50, 2)} | ${show(scanOn.p99, 2)} |
| scanning off | ${show(scanOff.cpuPerReq, 2)} | ${show(scanOff.rps, 0)} | ${show(scanOff.p50, 2)} | ${show(scanOff.p99, 2)} |

On / off, paired by round: **${show(scanRatio, 3)}**; difference per request: ${show(scanCost, 2)} µs.

What crosstalk's figure includes: the whole run of its process, i.e. worker pool start,
scenario import, HDR recording, per-second delta shipping and the main-thread merge, besides the
requests themselves. autocannon's figure covers its run call only (module load excluded).
`
writeFileSync(`${OUT_DIR}RESULTS.md`, md)
process.stdout.write(md)
