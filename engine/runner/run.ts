// run(): validate -> load scenario -> resolve target -> cohorts on the pool -> RunResult (+ report.json).
import { randomBytes } from 'node:crypto'
import { METRICS, MetricsAggregator } from '../metrics/index.js'
import { CohortRunner, planCohortsFor, type CohortPlan } from '../pool/index.js'
import { IsolationAggregator } from '../isolation/index.js'
import { inProcessBackend, LeakMonitor, memwatchBackend, remoteBackend, type HeapBackend } from '../leaks/index.js'
import { writeFileAtomic } from '../shared/index.js'
import { ConfigError } from '../errors.js'
import { evaluateThresholds, thresholdInputFrom } from '../thresholds/index.js'
import { LoadWatch } from './load-watch.js'
import { writeJsonReport } from '../report/index.js'
import { loadScenario, type LoadedScenario } from '../scenario/index.js'
import { resolveRunOptions, type ResolvedRunOptions, type RunOptions, type RunProgress } from '../options/index.js'
import { SCHEMA_VERSION, type LeakReport, type RunResult, type RunStatus } from '../result/index.js'
import { resolveTarget } from '../target/index.js'

export async function run (input: RunOptions = {}): Promise<RunResult> {
  const o = resolveRunOptions(input)
  const loaded = await loadScenario(o.scenario, o.cwd)
  try {
    return await runLoaded(o, loaded)
  } finally {
    loaded.dispose()
  }
}

async function runLoaded (o: ResolvedRunOptions, loaded: LoadedScenario): Promise<RunResult> {
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
    const cohorts = planCohortsFor(o.plan, o.workers, o.cohortSize)
    const threads = Math.min(o.workers, cohorts.length)
    const plan: CohortPlan = {
      model: o.plan.model,
      profile: o.plan.profile,
      durationMs: o.plan.durationMs,
      iterations: o.plan.iterations,
      gracefulStopMs: o.gracefulStopMs,
      drainMs: o.drainMs,
      maxDurationMs: o.plan.durationMs === null ? o.maxDurationMs : Math.min(o.plan.durationMs, o.maxDurationMs)
    }
    let loadStart: number | null = null

    const progress = (): RunProgress => {
      const now = performance.now()
      const last = agg.lastSecond(now)
      const failed = agg.rate(METRICS.httpReqFailed).passes
      return {
        elapsedS: loadStart === null ? 0 : Math.round((now - loadStart) / 100) / 10,
        phase: loadStart === null ? 'setup' : o.signal?.aborted === true ? 'stopping' : 'load',
        activeUsers: agg.gauge(METRICS.usersActive)?.value ?? 0,
        plannedUsers: o.plan.maxUsers,
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
    let runner: CohortRunner | undefined
    const watch = new LoadWatch(agg, t0, o.plan, o.thresholds, () => runner?.stop())
    try {
      runner = new CohortRunner({
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
        runStartedAt: t0,
        aggregator: agg,
        isolation,
        secret,
        scan: o.isolation.scan,
        barrierTimeoutMs: o.isolation.barrierTimeoutMs,
        signal: o.signal,
        onLoadStart: (at) => { loadStart = at; watch.start(at) }
      })
      outcome = await runner.run()
    } finally {
      clearInterval(progressTimer)
      watch.close()
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
    const thresholds = evaluateThresholds(o.thresholds, thresholdInputFrom(agg, loadDurationMs / 1000))
    const breakpoint = watch.breakpoint
    if (watch.abortedBy !== undefined) failures.push(`threshold ${watch.abortedBy.metric}: ${watch.abortedBy.expression} failed (${watch.abortedBy.value}) with abortOnFail: the run stopped early`)
    // a breakpoint run is meant to break: its thresholds mark where, they do not fail the run
    if (breakpoint === undefined) {
      for (const r of thresholds) if (!r.passed) failures.push(`threshold ${r.metric}: ${r.expression} failed (${r.value === null ? 'no data' : r.value})`)
    }
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
      executor: { name: o.plan.executor, model: o.plan.model, ...o.plan.params, profile: o.plan.profile },
      ...(breakpoint !== undefined && { breakpoint }),
      thresholds,
      users: {
        planned: outcome.users.planned,
        allocated: outcome.users.allocated,
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
async function heapBackendFor (o: ResolvedRunOptions, target: Awaited<ReturnType<typeof resolveTarget>>): Promise<HeapBackend | undefined> {
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
