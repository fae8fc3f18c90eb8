// run(): validate -> load scenario -> resolve target -> cohorts on the pool -> RunResult (+ report.json).
import { randomBytes } from 'node:crypto'
import { METRICS, MetricsAggregator } from '../metrics/index.js'
import { CohortRunner, planCohorts } from '../pool/index.js'
import { IsolationAggregator } from '../isolation/index.js'
import { inProcessBackend, LeakMonitor, memwatchBackend, remoteBackend, type HeapBackend, type LeakReport } from '../leaks/index.js'
import { writeFileAtomic } from '../report/index.js'
import { ConfigError } from '../errors.js'
import { planConstantUsers } from '../load/index.js'
import { writeJsonReport } from '../report/index.js'
import { loadScenario } from '../scenario/index.js'
import { resolveRunOptions, type RunOptions, type RunProgress } from './options.js'
import { SCHEMA_VERSION, type RunResult, type RunStatus } from './result.js'
import { resolveTarget } from './target.js'

export async function run (input: RunOptions = {}): Promise<RunResult> {
  const o = resolveRunOptions(input)
  const loaded = await loadScenario(o.scenario, o.cwd)
  const target = await resolveTarget({ ...o, inspect: o.leaks !== null || o.cpuProfile !== null })
  let backend: HeapBackend | undefined
  try {
    backend = await heapBackendFor(o, target)
    const startedAt = new Date()
    const t0 = performance.now()
    const agg = new MetricsAggregator(t0)
    const runId = randomBytes(6).toString('hex')
    const secret = randomBytes(32).toString('hex') // canary HMAC key: never reported
    const isolation = new IsolationAggregator()
    const cohorts = planCohorts(o.executor.users, o.workers, o.cohortSize)
    const threads = Math.min(o.workers, cohorts.length)
    const plan = planConstantUsers(o.executor)
    let loadStart: number | null = null

    const progress = (): RunProgress => {
      const now = performance.now()
      const last = agg.lastSecond(now)
      const failed = agg.rate(METRICS.httpReqFailed).passes
      return {
        elapsedS: loadStart === null ? 0 : Math.round((now - loadStart) / 100) / 10,
        phase: loadStart === null ? 'setup' : o.signal?.aborted === true ? 'stopping' : 'load',
        activeUsers: agg.gauge(METRICS.usersActive)?.value ?? 0,
        plannedUsers: o.executor.users,
        reqPerS: last?.counters[METRICS.httpReqs] ?? 0,
        p95Ms: last?.trends[METRICS.httpReqDuration]?.p95 ?? null,
        errors: agg.counter(METRICS.errors) + failed,
        eventsReceived: agg.counter(METRICS.wsEventsReceived),
        eventsPerS: last?.counters[METRICS.wsEventsReceived] ?? 0
      }
    }
    const l = o.leaks
    const ops = (): number => agg.counter(METRICS.httpReqs) + agg.counter(METRICS.wsMessagesSent)
    const monitor = backend !== undefined && l !== null
      ? new LeakMonitor(backend, {
        everyOps: l.everyOps,
        minIntervalMs: 100,
        suspects: l.suspects,
        cpuProfilePath: o.cpuProfile,
        snapshotDir: l.snapshots ? (o.out ?? '.') : null,
        floorBytesPerOp: l.floorBytesPerOp,
        onSample: s => agg.setGauge(METRICS.targetHeapUsed, 'target', s.usedBytes, performance.now())
      }, ops)
      : undefined
    if (monitor !== undefined) await monitor.start()
    else if (backend !== undefined) await backend.startCpuProfile() // a CPU profile without leak detection

    const onProgress = o.onProgress
    const progressTimer = onProgress === undefined ? undefined : setInterval(() => onProgress(progress()), 1000)

    let outcome
    try {
      outcome = await new CohortRunner({
        runId,
        scenarioUrl: loaded.url,
        origin: target.origin,
        cohorts,
        plan,
        threads,
        setupTimeoutMs: o.setupTimeoutMs,
        teardownTimeoutMs: o.teardownTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        tickMs: o.tickMs,
        aggregator: agg,
        isolation,
        secret,
        scan: o.isolation.scan,
        barrierTimeoutMs: o.isolation.barrierTimeoutMs,
        signal: o.signal,
        onLoadStart: (at) => { loadStart = at }
      }).run()
    } finally {
      clearInterval(progressTimer)
    }

    let leaks: LeakReport | undefined
    let cpuProfile: string | undefined
    if (monitor !== undefined) {
      leaks = await monitor.stop()
      cpuProfile = leaks.cpuProfile
      agg.setGauge(METRICS.targetHeapSlope, 'target', leaks.bytesPerOp, performance.now())
    } else if (backend !== undefined && o.cpuProfile !== null) {
      await writeFileAtomic(o.cpuProfile, JSON.stringify(await backend.stopCpuProfile()))
      cpuProfile = o.cpuProfile
    }

    let fixture: RunResult['target']['fixture']
    if (target.fixture !== undefined) {
      try {
        fixture = { ...await target.fixture.stats(), process: target.fixture.process }
      } catch {
        fixture = undefined // a crashed fixture must not cost the measured results
      }
    }

    const loadDurationMs = outcome.loadStartedAt === null ? 0 : outcome.loadEndedAt - outcome.loadStartedAt
    const metrics = agg.summary(loadDurationMs / 1000)
    const errorCount = outcome.errors.reduce((n, g) => n + g.count, 0)
    const checkFails = agg.rate(METRICS.checks).fails
    const iso = isolation.summary()
    const failures = [...outcome.failures]
    if (iso.violations > 0) failures.push(`${iso.violations} isolation violations`)
    if (outcome.users.lost > 0) failures.push(`${outcome.users.lost} of ${outcome.users.planned} users lost`)
    if (errorCount > 0) failures.push(`${errorCount} errors`)
    if (checkFails > 0) failures.push(`${checkFails} checks failed`)
    if (leaks?.verdict === 'leak') failures.push(`memory leak: ${leaks.reason}`)
    const status: RunStatus = outcome.interrupted ? 'interrupted' : failures.length > 0 ? 'failed' : 'passed'

    const result: RunResult = {
      schemaVersion: SCHEMA_VERSION,
      status,
      failures,
      runId,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      loadDurationMs: Math.round(loadDurationMs),
      loadWindow: {
        startS: outcome.loadStartedAt === null ? 0 : round3((outcome.loadStartedAt - t0) / 1000),
        endS: outcome.loadStartedAt === null ? 0 : round3((outcome.loadEndedAt - t0) / 1000)
      },
      scenario: { name: loaded.scenario.name, source: loaded.source },
      executor: { name: 'constant-users', users: o.executor.users, durationMs: o.executor.durationMs, iterations: o.executor.iterations },
      users: {
        planned: outcome.users.planned,
        peakActive: agg.gauge(METRICS.usersActive)?.max ?? 0,
        completed: outcome.users.completed,
        lost: outcome.users.lost,
        interrupted: outcome.users.interrupted
      },
      workers: { threads: outcome.threadsUsed, planned: threads, cohorts: cohorts.length },
      selfCheck: outcome.selfCheck,
      metrics,
      timeSeries: agg.series(),
      errors: { count: errorCount, groups: outcome.errors },
      isolation: iso,
      ...(leaks !== undefined && { leaks }),
      ...(cpuProfile !== undefined && { cpuProfile }),
      events: {
        sent: agg.counter(METRICS.wsEventsSent),
        received: agg.counter(METRICS.wsEventsReceived),
        lost: agg.counter(METRICS.wsEventsLost),
        duplicated: agg.counter(METRICS.wsEventsDuplicated),
        reordered: agg.counter(METRICS.wsEventsReordered),
        unreconciled: agg.counter(METRICS.wsStreamsUnreconciled)
      },
      target: { url: target.url, ...(fixture !== undefined && { fixture }) }
    }
    if (o.out !== null) await writeJsonReport(o.out, result)
    return result
  } finally {
    await backend?.close().catch(() => {})
    await target.close()
  }
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000

/** The inspector side of leak detection and CPU profiles, or undefined when neither is asked for. */
async function heapBackendFor (o: ReturnType<typeof resolveRunOptions>, target: Awaited<ReturnType<typeof resolveTarget>>): Promise<HeapBackend | undefined> {
  if (o.leaks === null && o.cpuProfile === null) return undefined
  const wanted = o.leaks?.backend
  if (wanted === 'memwatch' || wanted === 'in-process') {
    if (target.fixture?.process !== 'in-process') throw new ConfigError(`the ${wanted} heap backend reads this process: use it with the in-process fixture or a server started in this process`)
    return wanted === 'memwatch' ? await memwatchBackend() : inProcessBackend()
  }
  if (o.inspectTarget !== undefined) return await remoteBackend(o.inspectTarget)
  if (target.fixture?.inspectorUrl !== undefined) return await remoteBackend(target.fixture.inspectorUrl)
  if (target.fixture?.process === 'in-process') return inProcessBackend()
  throw new ConfigError('no inspector to read the target\'s heap: pass --inspect-target host:port')
}
