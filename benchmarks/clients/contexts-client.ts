// Context creation rate on one thread, in its own process (--expose-gc): constructs `count` user
// contexts exactly as a worker's newUser() does (identity, cookie jar, UserHttp with its undici
// Client object, state, the cohort's shared custom metrics; no network) with a real MetricsRecorder and CohortIsolation, keeping each
// one as the worker does. Prints {count, seconds, perSecond, heapBytesPerContext}.
import { randomBytes } from 'node:crypto'
import { threadId } from 'node:worker_threads'
import { UserContext } from '../../engine/context/index.js'
import { UserMetrics } from '../../engine/context/user-metrics.js'
import { CohortIsolation } from '../../engine/isolation/index.js'
import { MetricsRecorder } from '../../engine/metrics/index.js'
import { createControlBlock } from '../../engine/shared/index.js'

const [origin = 'http://127.0.0.1:9', countArg = '50000'] = process.argv.slice(2)
const count = Number(countArg)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

const runId = randomBytes(6).toString('hex')
const recorder = new MetricsRecorder()
const isolation = new CohortIsolation({
  secret: randomBytes(32).toString('hex'),
  runId,
  scan: true,
  threadId,
  recorder,
  control: createControlBlock().view,
  barrierTimeoutMs: 10_000
})

// shared by the cohort's users, as in the worker
const metrics = new UserMetrics(recorder)
const onScenarioError = (): void => {}

function construct (users: UserContext<object>[], n: number): void {
  for (let i = 0; i < n; i++) {
    users.push(new UserContext<object>({ id: users.length, runId, origin, timeoutMs: 10_000, body: { maxBytes: 16 * 2 ** 20, discard: false }, recorder, threadId, cohortId: 0, isolation, metrics, onScenarioError }))
  }
}

construct([], Math.min(10_000, count)) // warm-up: JIT, undici's lazy initialisation
gc()
const heap0 = process.memoryUsage().heapUsed
const users: UserContext<object>[] = []
const t0 = performance.now()
construct(users, count)
const seconds = (performance.now() - t0) / 1000
gc()
const heapBytesPerContext = (process.memoryUsage().heapUsed - heap0) / users.length
console.log(JSON.stringify({ count: users.length, seconds, perSecond: users.length / seconds, heapBytesPerContext }))
