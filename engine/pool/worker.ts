// Piscina worker entry: runs one cohort of users (see worker-cohort.ts) and, once its users are
// released, checks that a full GC collects them. Native addons that are not context-aware (the
// memwatch heap backend) must never be loaded from here: see engine/leaks/.
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { Session } from 'node:inspector/promises'
import { isMainThread } from 'node:worker_threads'
import { Directory } from '../isolation/index.js'
import { importScenario, type Scenario } from '../scenario/index.js'
import type { CohortResult, CohortTask } from './messages.js'
import { WorkerCohort, type WorkerCohortOutcome } from './worker-cohort.js'

const scenarios = new Map<string, Promise<Scenario<object>>>()

function scenarioOnce (url: string): Promise<Scenario<object>> {
  let p = scenarios.get(url)
  if (p === undefined) { p = importScenario(url); scenarios.set(url, p) }
  return p
}

/**
 * One directory per thread and run (and size: cohorts joining later get a larger one), whatever
 * the number of cohorts. Keyed by the run and entry count, not by the buffer: every message
 * brings a new SharedArrayBuffer object, so a buffer key decoded the whole directory once per
 * cohort, and a thread held (its cohorts x all users) entries.
 */
let directory: { key: string, d: Directory } | undefined

function directoryOnce (buffer: SharedArrayBuffer, key: string): Directory {
  if (directory?.key !== key) directory = { key, d: Directory.decode(buffer) }
  return directory.d
}

export default async function runCohort (task: CohortTask): Promise<CohortResult> {
  // the self-check runs after the cohort's frame is gone: its locals must not count as leaks
  const { result, watched } = await runOnce(task)
  return { ...result, selfCheck: { checked: watched.length, retained: await countRetained(watched) } }
}

/** the cohorts this thread is running (Piscina may give a thread several at once) */
const running = new Set<WorkerCohort>()

// A promise of the scenario's that rejects with nobody handling it (a wait it never awaited)
// would otherwise end the thread and lose every user on it: it is one counted error instead,
// charged to the oldest running cohort (the run's totals are the same whichever it is).
if (!isMainThread) {
  process.on('unhandledRejection', (reason) => {
    const cohort = running.values().next().value
    cohort?.strayRejection(reason)
  })
}

async function runOnce (task: CohortTask): Promise<WorkerCohortOutcome> {
  const cohort = new WorkerCohort(task, { scenario: () => scenarioOnce(task.scenarioUrl), directory: directoryOnce })
  running.add(cohort)
  try {
    return await cohort.run()
  } finally {
    running.delete(cohort)
  }
}

/**
 * Engine self-check: after teardown a full GC (node:inspector works in worker threads, where
 * --expose-gc does not) must collect every user context and socket, so the engine's own growth
 * is never mistaken for the target's. Users still referenced (by a scenario's module state, or
 * an iteration that never ended) are counted.
 */
async function countRetained (refs: Array<WeakRef<object>>): Promise<number> {
  if (refs.length === 0) return 0
  await yieldToLoop() // WeakRef targets stay alive until the job that made them ends
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.collectGarbage')
  } finally {
    session.disconnect()
  }
  return refs.filter(r => r.deref() !== undefined).length
}
