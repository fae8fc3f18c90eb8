// Where the CPU of crosstalk's HTTP path goes: the crosstalk client of the HTTP section (50
// users, one worker thread, `GET /health`) run with `--cpu-prof`, and the worker thread's
// profile cut by who owns each sampled function (self time): undici, the engine, Node's own
// JavaScript (net, streams, timers), the native socket write and GC. Prints a markdown table in
// microseconds per request, and the top functions. `node dist/benchmarks/profile-http.js
// [seconds]`; not part of `npm run bench` (the profiler slows what it measures: the shares are
// the figure, not the totals).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, runClient, startFixture } from './lib.js'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

const CATEGORIES: Array<[string, (url: string, fn: string) => boolean]> = [
  ['undici (Request, Client, the llhttp WebAssembly parser and its callbacks)', url => url.includes('node_modules/undici/')],
  ['hdr-histogram-js (latency recording)', url => url.includes('node_modules/hdr-histogram-js/')],
  ['crosstalk engine (per-user context, iteration loop, metrics, scanning, cookies)', url => url.includes('/dist/engine/')],
  ['the scenario (benchmarks/clients/health-scenario.js)', url => url.includes('/dist/benchmarks/')],
  ['Node: net, streams, sockets (JavaScript)', url => /^node:(net|stream|internal\/(stream|streams|net|stream_base_commons|socket))/.test(url) || url.includes('internal/streams/')],
  ['Node: timers, promises, events, other internals', url => url.startsWith('node:')],
  ['(program): native work outside JavaScript (libuv, the event loop, C++ callbacks)', (url, fn) => url === '' && fn === '(program)'],
  ['garbage collector', (_url, fn) => fn === '(garbage collector)'],
  ['idle', (_url, fn) => fn === '(idle)'],
  ['other (native builtins called from JavaScript, other modules)', () => true]
]

function categorize (p: Profile): { byCategory: Map<string, number>, byFunction: Map<string, number>, totalUs: number } {
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0))
  // a native builtin (url '') is charged to the nearest caller with a url: the module that called it
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const ownerUrl = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!
      if (n.callFrame.url !== '') return n.callFrame.url
      if (n.callFrame.functionName.startsWith('(')) return ''
    }
    return ''
  }
  const byCategory = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let totalUs = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!
    const f = n.callFrame
    const url = f.url !== '' || f.functionName.startsWith('(') ? f.url : ownerUrl(id)
    const category = CATEGORIES.find(([, match]) => match(url, f.functionName))![0]
    byCategory.set(category, (byCategory.get(category) ?? 0) + us)
    const name = `${f.functionName === '' ? '(anonymous)' : f.functionName} ${f.url === '' ? '' : `${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`}`.trim()
    byFunction.set(name, (byFunction.get(name) ?? 0) + us)
    totalUs += us
  }
  return { byCategory, byFunction, totalUs }
}

const seconds = Number(process.argv[2] ?? 8)
const dir = mkdtempSync(join(tmpdir(), 'crosstalk-profile-'))
const fixture = await startFixture()
try {
  const r = runClient<{ requests: number, cpuUs: number }>('./clients/crosstalk-client.js', [fixture.url, '50', String(seconds), '1', 'health', 'on'], ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'])
  // one profile per thread: the worker is the one with the most busy samples
  const profiles = readdirSync(dir).map(f => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile).map(p => ({ p, c: categorize(p) }))
  const busy = (c: ReturnType<typeof categorize>): number => c.totalUs - (c.byCategory.get('idle') ?? 0)
  profiles.sort((a, b) => busy(b.c) - busy(a.c))
  const worker = profiles[0]!.c
  const main = profiles[1]?.c
  const workerBusy = busy(worker)
  const perReq = (us: number): string => fmt(us / r.requests, 2)
  const rows = CATEGORIES.map(([name]) => name).filter(n => n !== 'idle' && (worker.byCategory.get(n) ?? 0) > 0)
    .map(n => [n, worker.byCategory.get(n)!] as const).sort((a, b) => b[1] - a[1])
  const top = [...worker.byFunction.entries()].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 15)
  console.log(`Profile of the crosstalk HTTP client (50 users, 1 worker, GET /health, ${seconds} s, --cpu-prof-interval 250 µs): ${fmt(r.requests, 0)} requests; whole process ${fmt(r.cpuUs / r.requests, 2)} µs CPU per request (profiler on).
Worker thread: ${fmt(workerBusy / 1000, 0)} ms busy of ${fmt(worker.totalUs / 1000, 0)} ms sampled (${fmt(100 * workerBusy / worker.totalUs, 0)}%); main thread: ${main === undefined ? 'no profile' : `${fmt(busy(main) / 1000, 0)} ms busy (${perReq(busy(main))} µs per request)`}.

| worker thread, self time by owner | share of busy | µs per request |
|---|---|---|
${rows.map(([n, us]) => `| ${n} | ${fmt(100 * us / workerBusy, 1)}% | ${perReq(us)} |`).join('\n')}

Top functions (self time, worker thread):
${top.map(([n, us]) => `- ${n}: ${fmt(100 * us / workerBusy, 1)}% (${perReq(us)} µs/request)`).join('\n')}`)
} finally {
  fixture.stop()
  rmSync(dir, { recursive: true, force: true })
}
