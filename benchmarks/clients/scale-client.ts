// One crosstalk run holding `users` users (scale-scenario: session + one WebSocket each) in its
// own process, started with --expose-gc. At the plateau (every user set up, `measureAt` seconds
// into the load phase) it asks each worker thread for its heap after a full GC, collects the
// main thread's garbage, then reads this process's RSS (all threads) and open file descriptors.
// Prints {rss, heapMain, heapWorkers, externalWorkers, fds, activeUsers, allConnectedS, ...}.
import { BroadcastChannel } from 'node:worker_threads'
import { readdirSync } from 'node:fs'
import { run } from '../../engine/index.js'
import { MEASURE_CHANNEL, type ThreadHeap } from './scale-scenario.js'

const [url, users, workers, seconds, measureAt] = process.argv.slice(2)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

interface Plateau { rss: number, heapMain: number, heapWorkers: number, externalWorkers: number, threadsMeasured: number, gcMs: number, fds: number, activeUsers: number }

async function measure (threads: number, activeUsers: number): Promise<Plateau> {
  const channel = new BroadcastChannel(MEASURE_CHANNEL)
  const replies = new Map<number, ThreadHeap>()
  const t = performance.now()
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000)
      channel.onmessage = (e) => {
        const h = (e as MessageEvent).data as ThreadHeap
        replies.set(h.threadId, h)
        if (replies.size >= threads) { clearTimeout(timer); resolve() }
      }
      channel.postMessage('measure')
    })
  } finally {
    channel.close()
  }
  gc!()
  const m = process.memoryUsage()
  const hs = [...replies.values()]
  return {
    rss: m.rss,
    heapMain: m.heapUsed,
    heapWorkers: hs.reduce((n, h) => n + h.usedHeap, 0),
    externalWorkers: hs.reduce((n, h) => n + h.external, 0),
    threadsMeasured: hs.length,
    gcMs: performance.now() - t,
    fds: readdirSync('/proc/self/fd').length,
    activeUsers
  }
}

let plateau: Promise<Plateau> | undefined
const r = await run({
  scenario: new URL('./scale-scenario.js', import.meta.url),
  target: url,
  users: Number(users),
  duration: `${seconds}s`,
  workers: Number(workers),
  setupTimeout: '120s',
  onProgress: (p) => {
    if (plateau === undefined && p.phase === 'load' && p.elapsedS >= Number(measureAt)) {
      plateau = measure(Math.min(Number(workers), Number(users)), p.activeUsers)
    }
  }
})
if (plateau === undefined) throw new Error('run too short to measure the plateau')
const checks = r.metrics['checks']
console.log(JSON.stringify({
  ...await plateau,
  users: r.users,
  threads: r.workers.threads,
  allConnectedS: r.loadWindow.startS,
  status: r.status,
  errors: r.errors.count,
  checksFailed: checks?.type === 'rate' ? checks.fails : 0,
  selfCheck: r.selfCheck
}))
