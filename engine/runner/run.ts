// run(): validate -> load scenario -> resolve target -> cohorts on the pool -> RunResult (+ report.json).
// The shutdown order is fixed here: the load settles, the watchers stop, the target's heap is read
// a last time, the fixture's counters are fetched, the report is written, then the inspector and
// the target are closed.
import { randomBytes } from 'node:crypto'
import { IsolationAggregator } from '../isolation/index.js'
import { METRICS, MetricsAggregator } from '../metrics/index.js'
import { resolveRunOptions, type ResolvedRunOptions, type RunOptions, type RunProgress } from '../options/index.js'
import { assignSetupShares, CohortRunner, planCohortsFor, planScenarioCohorts, type CohortOutcome, type CohortPlan } from '../pool/index.js'
import type { RunResult } from '../result/index.js'
import { selfCheckReport, writeReports } from '../report/index.js'
import { loadScenario, readUsersFile, type LoadedScenario, type UserRow } from '../scenario/index.js'
import { redact, redactUrl, registerRowSecrets } from '../shared/index.js'
import { resolveTarget, type ResolvedTarget } from '../target/index.js'
import { buildRunResult } from './build-result.js'
import { LiveOutputs } from './live-outputs.js'
import { LoadWatch } from './load-watch.js'
import { loadPlanParts, runMaxDurationMs, runnerScenarios, scenarioOfRun, type PlanPart } from './plan-parts.js'
import { checkOpenFiles, checkOutDir } from './preflight.js'
import { RunController } from './run-controller.js'
import { TargetInspection } from './target-inspection.js'

export async function run (input: RunOptions = {}): Promise<RunResult> {
  const o = resolveRunOptions(input)
  const userRows = await preflight(o)
  const outputs = await LiveOutputs.open(o)
  try {
    // a plan of several scenarios loads each entry's; its aggregators share the run's clock
    const t0 = performance.now()
    const parts = await loadPlanParts(o, t0)
    try {
      const loaded = parts[0]?.loaded ?? await loadScenario(o.scenario, o.cwd)
      try {
        return await runLoaded(o, { loaded, parts, t0 }, userRows, outputs)
      } finally {
        if (parts.length === 0) loaded.dispose()
      }
    } finally {
      for (const p of parts) p.loaded.dispose()
    }
  } finally {
    // a run that threw still ends its streams (status 'error'); a finished one has ended them
    await outputs.end('error')
  }
}

/**
 * Before the scenario is compiled and the target started: the report can be written, the users
 * fit, the users file reads and has a row for every user. Its secret values are masked in this
 * thread from here on (workers register their own rows').
 */
async function preflight (o: ResolvedRunOptions): Promise<readonly UserRow[] | null> {
  if (o.out !== null) await checkOutDir(o.out)
  // the in-process fixture holds the server end of every connection in this process too
  const perUser = o.target === undefined && o.fixture.process === 'in-process' ? 2 : 1
  const warning = checkOpenFiles(o.plan.maxUsers, perUser)
  if (warning !== undefined) process.stderr.write(`crosstalk: warning: ${warning}\n`)
  if (o.usersFile === null) return null
  const file = await readUsersFile(o.usersFile, o.plan.maxUsers)
  for (const row of file.rows) registerRowSecrets(row)
  return file.rows
}

/** Start the fixture child or the command with its inspector: the heap or CPU profile is read through it. */
function wantsInspector (o: ResolvedRunOptions): boolean {
  const wanted = o.leaks !== null || o.cpuProfile !== null
  if (!o.targetIsCommand) return wanted
  // a command inspected through --inspect-target, or read in this process, is started as it is
  return wanted && o.inspectTarget === undefined && o.leaks?.backend !== 'in-process' && o.leaks?.backend !== 'memwatch'
}

/** One run's clock, identity and accumulators. */
interface RunSession {
  o: ResolvedRunOptions
  /** the scenario (a plan: its first entry's) */
  loaded: LoadedScenario
  /** a plan of several scenarios: each entry with its module and aggregator (empty: one scenario) */
  parts: PlanPart[]
  target: ResolvedTarget
  startedAt: Date
  t0: number
  runId: string
  /** canary HMAC key: never reported */
  secret: string
  agg: MetricsAggregator
  isolation: IsolationAggregator
  /** the users file's rows, or null */
  userRows: readonly UserRow[] | null
}

async function runLoaded (o: ResolvedRunOptions, scenarios: { loaded: LoadedScenario, parts: PlanPart[], t0: number }, userRows: readonly UserRow[] | null, outputs: LiveOutputs): Promise<RunResult> {
  const target = await resolveTarget({ ...o, inspect: wantsInspector(o) })
  let inspection: TargetInspection | undefined
  try {
    const { loaded, parts, t0 } = scenarios
    const s: RunSession = {
      o,
      loaded,
      parts,
      target,
      startedAt: new Date(),
      t0,
      runId: randomBytes(6).toString('hex'),
      secret: randomBytes(32).toString('hex'),
      agg: new MetricsAggregator(t0, o.maxRequestNames),
      isolation: new IsolationAggregator(),
      userRows
    }
    await outputs.begin({ runId: s.runId, startedAt: s.startedAt, scenario: scenarioOfRun(loaded, parts).name, target: redactUrl(target.url) }, s.agg)
    inspection = await TargetInspection.start(o, target, s.agg)
    const result = await measure(s, inspection)
    // building the result closed the last seconds: the streams have every point; their warnings go in the report
    result.hints.push(...(await outputs.end(result.status)).map(redact))
    selfCheckReport(result)
    if (o.out !== null) await writeReports(o.out, result, o.reports)
    return result
  } finally {
    await inspection?.close()
    await target.close()
  }
}

async function measure (s: RunSession, inspection: TargetInspection): Promise<RunResult> {
  const { o, agg } = s
  const cohorts = s.parts.length === 0 ? planCohortsFor(o.plan, o.workers, o.cohortSize) : planScenarioCohorts(s.parts.map(p => ({ name: p.entry.name, plan: p.entry.plan })), o.workers, o.cohortSize)
  const setupWaves = assignSetupShares(cohorts, o.setupConcurrency)
  const threads = Math.min(o.workers, cohorts.length)
  const byScenario = new Map(s.parts.map(p => [p.entry.name, p.agg]))
  const controller = new RunController({
    durationMs: o.plan.durationMs,
    iterations: o.plan.iterations,
    maxDurationMs: runMaxDurationMs(o),
    gracefulStopMs: o.gracefulStopMs,
    drainMs: o.drainMs,
    setupTimeoutMs: o.setupTimeoutMs,
    setupWaves,
    teardownTimeoutMs: o.teardownTimeoutMs,
    signal: o.signal
  })
  const watch = new LoadWatch(agg, s.t0, o.plan, o.thresholds, () => controller.stop(watch.breakpoint?.broke === true ? 'breakpoint' : 'abort-on-fail'), byScenario)
  const onProgress = o.onProgress
  const progressTimer = onProgress === undefined ? undefined : setInterval(() => onProgress(progress(s, controller)), 1000)
  let outcome: CohortOutcome
  try {
    const runner = new CohortRunner({
      runId: s.runId,
      scenarioUrl: s.loaded.url,
      origin: s.target.origin,
      cohorts,
      plan: cohortPlan(o, controller),
      scenarios: runnerScenarios(o, s.parts, { gracefulStopMs: o.gracefulStopMs, errorBackoffMs: o.errorBackoffMs, drainMs: o.drainMs }, setupWaves),
      threads,
      setupTimeoutMs: o.setupTimeoutMs,
      preconnect: o.preconnect,
      teardownTimeoutMs: o.teardownTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      body: { maxBytes: o.maxBodyBytes, discard: o.discardBodies },
      maxRequestNames: o.maxRequestNames,
      tickMs: o.tickMs,
      runStartedAt: s.t0,
      aggregator: agg,
      isolation: s.isolation,
      secret: s.secret,
      userRows: s.userRows,
      scan: o.isolation.scan,
      barrierTimeoutMs: o.isolation.barrierTimeoutMs,
      onLoadStart: (at) => { controller.loadStarted(at); watch.start(at); inspection.loadStarted(at) }
    })
    inspection.attachLoad(runner.loadHold)
    controller.attach(runner)
    outcome = await runner.run()
    controller.settled({ startedAt: outcome.loadStartedAt, endedAt: outcome.loadEndedAt })
  } catch (err) {
    controller.stop('fatal')
    throw err
  } finally {
    controller.close()
    clearInterval(progressTimer)
    watch.close()
  }
  const findings = await inspection.finish(agg, outcome.loadStartedAt === null ? 0 : outcome.loadEndedAt - outcome.loadStartedAt)
  return buildRunResult({
    o,
    runId: s.runId,
    startedAt: s.startedAt,
    t0: s.t0,
    scenario: scenarioOfRun(s.loaded, s.parts),
    agg,
    parts: s.parts,
    isolation: s.isolation,
    outcome,
    cohorts: cohorts.length,
    threads,
    stop: { reason: controller.stopReason ?? 'fatal', interrupted: controller.interrupted, engineFailures: controller.failures },
    watch: { abortedBy: watch.abortedBy, breakpoint: watch.breakpoint },
    findings,
    target: { url: s.target.url, ...await fixtureStats(s.target), ...(s.target.command !== undefined && { command: s.target.command }) }
  })
}

function cohortPlan (o: ResolvedRunOptions, controller: RunController): CohortPlan {
  return {
    model: o.plan.model,
    profile: o.plan.profile,
    durationMs: o.plan.durationMs,
    iterations: o.plan.iterations,
    gracefulStopMs: o.gracefulStopMs,
    errorBackoffMs: o.errorBackoffMs,
    drainMs: o.drainMs,
    deadlines: controller.deadlines
  }
}

/** The fixture's own counters when crosstalk started it; a crashed fixture must not cost the measured results. */
async function fixtureStats (target: ResolvedTarget): Promise<Pick<RunResult['target'], 'fixture'>> {
  if (target.fixture === undefined) return {}
  try {
    return { fixture: { ...await target.fixture.stats(), process: target.fixture.process } }
  } catch {
    return {}
  }
}

function progress (s: RunSession, controller: RunController): RunProgress {
  const { agg, o } = s
  const now = performance.now()
  const last = agg.lastSecond(now)
  const loadStart = controller.loadStartedAt
  return {
    elapsedS: loadStart === null ? 0 : Math.round((now - loadStart) / 100) / 10,
    phase: loadStart === null ? 'setup' : controller.lifecycle.is('stopping') ? 'stopping' : 'load',
    activeUsers: agg.gauge(METRICS.usersActive)?.value ?? 0,
    plannedUsers: o.plan.maxUsers,
    reqPerS: last?.counters[METRICS.httpReqs] ?? 0,
    p95Ms: last?.trends[METRICS.httpReqDuration]?.p95 ?? null,
    errors: agg.counter(METRICS.errors),
    failedRequests: agg.rate(METRICS.httpReqFailed).passes,
    eventsReceived: agg.counter(METRICS.wsEventsReceived),
    eventsPerS: last?.counters[METRICS.wsEventsReceived] ?? 0
  }
}
