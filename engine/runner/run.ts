// run(): validate -> load scenario -> resolve target -> cohorts on the pool -> RunResult (+ report.json).
// The shutdown order is fixed here: the load settles, the watchers stop, the target's heap is read
// a last time, the fixture's counters are fetched, the report is written, then the inspector and
// the target are closed.
import { randomBytes } from 'node:crypto'
import { IsolationAggregator } from '../isolation/index.js'
import { METRICS, MetricsAggregator } from '../metrics/index.js'
import { resolveRunOptions, withScenarioMetrics, type ResolvedRunOptions, type RunOptions, type RunProgress } from '../options/index.js'
import { assignSetupShares, CohortRunner, planCohortsFor, type CohortOutcome, type CohortPlan } from '../pool/index.js'
import type { RunResult } from '../result/index.js'
import { selfCheckReport, writeReports } from '../report/index.js'
import { loadScenario, readUsersFile, type LoadedScenario, type UserRow } from '../scenario/index.js'
import { redact, redactUrl, registerRowSecrets } from '../shared/index.js'
import { resolveTarget, type ResolvedTarget } from '../target/index.js'
import { buildRunResult } from './build-result.js'
import { LiveOutputs } from './live-outputs.js'
import { LoadWatch } from './load-watch.js'
import { checkOpenFiles, checkOutDir } from './preflight.js'
import { RunController } from './run-controller.js'
import { RunSteps } from './run-steps.js'
import { TargetInspection } from './target-inspection.js'

export async function run (input: RunOptions = {}): Promise<RunResult> {
  const o = resolveRunOptions(input)
  const userRows = await preflight(o)
  const outputs = await LiveOutputs.open(o)
  try {
    const loaded = await loadScenario(o.scenario, o.cwd)
    try {
      // thresholds on the scenario's own metrics are checked once its declared `metrics` are read
      return await runLoaded(withScenarioMetrics(o, loaded.scenario.metrics), loaded, userRows, outputs)
    } finally {
      loaded.dispose()
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
  loaded: LoadedScenario
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
  /** the scenario's run-wide before and after */
  steps: RunSteps
  /** what `before` returned (undefined: no before, or the run was interrupted during it) */
  runData: unknown
}

async function runLoaded (o: ResolvedRunOptions, loaded: LoadedScenario, userRows: readonly UserRow[] | null, outputs: LiveOutputs): Promise<RunResult> {
  const target = await resolveTarget({ ...o, inspect: wantsInspector(o) })
  let inspection: TargetInspection | undefined
  const runId = randomBytes(6).toString('hex')
  const steps = runSteps(o, loaded, target, runId)
  try {
    const t0 = performance.now()
    const s: RunSession = {
      o,
      loaded,
      target,
      startedAt: new Date(),
      t0,
      runId,
      secret: randomBytes(32).toString('hex'),
      agg: new MetricsAggregator(t0, o.maxRequestNames),
      isolation: new IsolationAggregator(),
      userRows,
      steps,
      runData: undefined
    }
    s.runData = await s.steps.before()
    await outputs.begin({ runId: s.runId, startedAt: s.startedAt, scenario: loaded.scenario.name, target: redactUrl(target.url) }, s.agg)
    inspection = await TargetInspection.start(o, target, s.agg)
    const result = await measure(s, inspection)
    // building the result closed the last seconds: the streams have every point; their warnings go in the report
    result.hints.push(...(await outputs.end(result.status)).map(redact))
    selfCheckReport(result)
    if (o.out !== null) await writeReports(o.out, result, o.reports)
    return result
  } finally {
    // a run that threw after before succeeded still undoes what before created (a no-op when after ran)
    await steps.after()
    await inspection?.close()
    await target.close()
  }
}

async function measure (s: RunSession, inspection: TargetInspection): Promise<RunResult> {
  const { o, agg } = s
  const cohorts = planCohortsFor(o.plan, o.workers, o.cohortSize)
  const setupWaves = assignSetupShares(cohorts, o.setupConcurrency)
  const threads = Math.min(o.workers, cohorts.length)
  const controller = new RunController({
    durationMs: o.plan.durationMs,
    iterations: o.plan.iterations,
    maxDurationMs: o.maxDurationMs,
    gracefulStopMs: o.gracefulStopMs,
    drainMs: o.drainMs,
    setupTimeoutMs: o.setupTimeoutMs,
    setupWaves,
    teardownTimeoutMs: o.teardownTimeoutMs,
    signal: o.signal
  })
  const watch = new LoadWatch(agg, s.t0, o.plan, o.thresholds, () => controller.stop(watch.breakpoint?.broke === true ? 'breakpoint' : 'abort-on-fail'))
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
      runData: s.runData,
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
  // every user is torn down (an early stop or an interrupt included): the run-wide after
  const afterFailure = await s.steps.after()
  return buildRunResult({
    o,
    runId: s.runId,
    startedAt: s.startedAt,
    t0: s.t0,
    scenario: { name: s.loaded.scenario.name, source: s.loaded.source },
    agg,
    isolation: s.isolation,
    outcome,
    cohorts: cohorts.length,
    threads,
    stop: { reason: controller.stopReason ?? 'fatal', interrupted: controller.interrupted, engineFailures: afterFailure === undefined ? controller.failures : [...controller.failures, afterFailure] },
    watch: { abortedBy: watch.abortedBy, breakpoint: watch.breakpoint },
    findings,
    target: { url: s.target.url, ...await fixtureStats(s.target), ...(s.target.command !== undefined && { command: s.target.command }) }
  })
}

function runSteps (o: ResolvedRunOptions, loaded: LoadedScenario, target: ResolvedTarget, runId: string): RunSteps {
  return new RunSteps({
    scenario: loaded.scenario,
    source: loaded.source,
    context: { origin: target.origin, runId, users: o.plan.maxUsers, scenario: loaded.scenario.name, requestTimeoutMs: o.requestTimeoutMs, body: { maxBytes: o.maxBodyBytes, discard: false } },
    timeoutMs: o.runStepTimeoutMs,
    signal: o.signal
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
