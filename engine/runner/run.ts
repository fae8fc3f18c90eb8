// run(): validate -> load scenario -> resolve target -> cohorts on the pool -> RunResult (+ report.json).
// The run ends through the run controller's shutdown (shutdown.ts), in its fixed order: each
// resource adds its close as it is acquired, and the load adds the steps that finish the result.
import { randomBytes } from 'node:crypto'
import { InternalError } from '../errors.js'
import { ShardHistograms, startGateOf } from '../distributed/index.js'
import { IsolationAggregator } from '../isolation/index.js'
import { METRICS, MetricsAggregator } from '../metrics/index.js'
import { resolveRunOptions, withScenarioMetrics, type ResolvedRunOptions, type RunOptions, type RunProgress } from '../options/index.js'
import { assignSetupShares, CohortRunner, planCohortsFor, planScenarioCohorts, type CohortOutcome, type CohortPlan, type CohortSpec } from '../pool/index.js'
import { shardSlice } from '../load/index.js'
import type { RunResult, ShardReport } from '../result/index.js'
import { selfCheckReport, writeReports } from '../report/index.js'
import { loadScenario, readUsersFile, type LoadedScenario, type UserRow } from '../scenario/index.js'
import { redact, redactUrl, registerRowSecrets } from '../shared/index.js'
import { resolveTarget, type ResolvedTarget } from '../target/index.js'
import { buildRunResult } from './build-result.js'
import { LiveOutputs } from './live-outputs.js'
import { LoadWatch } from './load-watch.js'
import { loadPlanParts, runMaxDurationMs, runnerScenarios, scenarioOfRun, type PlanPart } from './plan-parts.js'
import { checkOpenFiles, checkOutDir } from './preflight.js'
import { RunController, type RunControllerOptions } from './run-controller.js'
import { RunSteps } from './run-steps.js'
import { TargetInspection, type InspectionFindings } from './target-inspection.js'

export async function run (input: RunOptions = {}): Promise<RunResult> {
  const o = resolveRunOptions(input)
  const userRows = await preflight(o)
  // a plan of several scenarios: each entry's cohorts, with run-wide user ids
  // a shard plans only its slice of the users (run-wide ids: see load/shard.ts)
  const shard = o.distributed.shard
  const cohorts = o.scenarios === null ? planCohortsFor(o.plan, o.workers, o.cohortSize, shard) : planScenarioCohorts(o.scenarios.map(e => ({ name: e.name, plan: e.plan })), o.workers, o.cohortSize, shard)
  const controller = new RunController(controllerOptions(o, cohorts))
  const shutdown = controller.shutdown
  shutdown.on('watchers closed', () => controller.close())
  const ending: Ending = {}
  try {
    const outputs = await LiveOutputs.open(o)
    shutdown.on('streams ended', async () => {
      const warnings = await outputs.end(ending.result?.status ?? 'error')
      ending.result?.hints.push(...warnings.map(redact))
    })
    // a plan loads each entry's scenario; its aggregators share the run's clock
    const t0 = performance.now()
    const parts = await loadPlanParts(o, t0)
    shutdown.on('scenario disposed', () => { for (const p of parts) p.loaded.dispose() })
    const loaded = parts[0]?.loaded ?? await loadScenario(o.scenario, o.cwd)
    if (parts.length === 0) shutdown.on('scenario disposed', () => loaded.dispose())
    // thresholds on the scenario's own metrics are checked once its declared `metrics` are read
    const os = withScenarioMetrics(o, loaded.scenario.metrics)
    const target = await resolveTarget({ ...os, inspect: wantsInspector(os) })
    shutdown.on('target closed', async () => await target.close())
    // shards share the run's id and secret, so each verifies the canaries of every other
    const runId = o.distributed.runId ?? randomBytes(6).toString('hex')
    const steps = runSteps(os, loaded, target, runId)
    const runData = await steps.before()
    // every user is torn down (an early stop, an interrupt or a failure included): the run-wide after
    shutdown.on('scenario after', async () => { ending.afterFailure = await steps.after() })
    const s: RunSession = {
      o: os,
      loaded,
      parts,
      target,
      cohorts,
      threads: Math.min(o.workers, cohorts.length),
      startedAt: new Date(),
      t0,
      runId,
      secret: o.distributed.secret ?? randomBytes(32).toString('hex'),
      agg: new MetricsAggregator(t0, o.maxRequestNames),
      histograms: undefined,
      isolation: new IsolationAggregator(),
      userRows,
      runData
    }
    // a shard keeps each second's histograms from the first one on, for `crosstalk merge`
    if (o.distributed.shard !== null) s.histograms = new ShardHistograms(s.agg)
    await outputs.begin({ runId: s.runId, startedAt: s.startedAt, scenario: scenarioOfRun(loaded, parts).name, target: redactUrl(target.url) }, s.agg)
    const inspection = await TargetInspection.start(o, target, s.agg)
    shutdown.on('inspector closed', async () => await inspection.close())
    await measure(s, controller, inspection, ending)
  } catch (err) {
    controller.fail(err)
  }
  await shutdown.run()
  if (ending.result === undefined) throw new InternalError('the run ended without a result or an error')
  return ending.result
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
  const warning = checkOpenFiles(shardUsers(o), perUser)
  if (warning !== undefined) process.stderr.write(`crosstalk: warning: ${warning}\n`)
  if (o.usersFile === null) return null
  const file = await readUsersFile(o.usersFile, o.plan.maxUsers)
  for (const row of file.rows) registerRowSecrets(row)
  return file.rows
}

/** The users this process runs: the plan's, or its shard's slice of them. */
function shardUsers (o: ResolvedRunOptions): number {
  const plans = o.scenarios === null ? [o.plan] : o.scenarios.map(e => e.plan)
  return plans.reduce((n, p) => { const s = shardSlice(p.maxUsers, o.distributed.shard); return n + s.to - s.from }, 0)
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
  cohorts: CohortSpec[]
  threads: number
  startedAt: Date
  t0: number
  runId: string
  /** canary HMAC key: never reported */
  secret: string
  agg: MetricsAggregator
  /** a shard's per-second histograms (undefined: not a shard) */
  histograms: ShardHistograms | undefined
  isolation: IsolationAggregator
  /** the users file's rows, or null */
  userRows: readonly UserRow[] | null
  /** what the scenario's `before` returned (`user.run.data`) */
  runData: unknown
}

/** What the shutdown's steps build: the result, once the load settled and nothing failed. */
interface Ending {
  result?: RunResult
  /** the scenario's `after` failed: one line for the report */
  afterFailure?: string
}

function controllerOptions (o: ResolvedRunOptions, cohorts: CohortSpec[]): RunControllerOptions {
  return {
    durationMs: o.plan.durationMs,
    iterations: o.plan.iterations,
    maxDurationMs: runMaxDurationMs(o),
    gracefulStopMs: o.gracefulStopMs,
    drainMs: o.drainMs,
    setupTimeoutMs: o.setupTimeoutMs,
    setupWaves: assignSetupShares(cohorts, o.setupConcurrency),
    teardownTimeoutMs: o.teardownTimeoutMs,
    users: cohorts.reduce((n, c) => n + c.size, 0),
    signal: o.signal
  }
}

/** Runs the load to its end and gives the shutdown the steps that finish the result. */
async function measure (s: RunSession, controller: RunController, inspection: TargetInspection, ending: Ending): Promise<void> {
  const { o, agg } = s
  const byScenario = new Map(s.parts.map(p => [p.entry.name, p.agg]))
  const watch = new LoadWatch(agg, s.t0, o.plan, o.thresholds, () => controller.stop(watch.breakpoint?.broke === true ? 'breakpoint' : 'abort-on-fail'), byScenario)
  const onProgress = o.onProgress
  const progressTimer = onProgress === undefined ? undefined : setInterval(() => onProgress(progress(s, controller)), 1000)
  controller.shutdown.on('watchers closed', () => { clearInterval(progressTimer); watch.close() })
  const runner = new CohortRunner({
    runId: s.runId,
    scenarioUrl: s.loaded.url,
    origin: s.target.origin,
    cohorts: s.cohorts,
    plan: cohortPlan(o, controller),
    scenarios: runnerScenarios(o, s.parts, { gracefulStopMs: o.gracefulStopMs, errorBackoffMs: o.errorBackoffMs, drainMs: o.drainMs }, assignSetupShares(s.cohorts, o.setupConcurrency)),
    threads: s.threads,
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
    onLoadStart: (at) => { controller.loadStarted(at); watch.start(at); inspection.loadStarted(at) },
    startGate: startGateOf(o)
  })
  inspection.attachLoad(runner.loadHold)
  controller.attach(runner)
  const outcome = await runner.run()
  // a shard whose start never came sent no load: its error, not an empty report, ends the run
  if (outcome.startFailure !== undefined) throw outcome.startFailure
  controller.settled({ startedAt: outcome.loadStartedAt, endedAt: outcome.loadEndedAt })
  finishingSteps(s, controller, inspection, outcome, watch, ending)
}

/** The steps after the load: the last heap reading, the fixture's counters, the result, the report. */
function finishingSteps (s: RunSession, controller: RunController, inspection: TargetInspection, outcome: CohortOutcome, watch: LoadWatch, ending: Ending): void {
  const { o, agg } = s
  const shutdown = controller.shutdown
  const histograms = s.histograms
  let findings: InspectionFindings = {}
  let fixture: Pick<RunResult['target'], 'fixture'> = {}
  shutdown.on('final heap reading', async () => {
    findings = await inspection.finish(agg, outcome.loadStartedAt === null ? 0 : outcome.loadEndedAt - outcome.loadStartedAt)
  })
  shutdown.on('fixture stats', async () => { fixture = await fixtureStats(s.target) })
  shutdown.on('result built', () => {
    const reason = controller.stopReason
    if (reason === undefined) throw new InternalError('the load settled without a stop reason')
    ending.result = buildRunResult({
      o,
      runId: s.runId,
      startedAt: s.startedAt,
      t0: s.t0,
      scenario: scenarioOfRun(s.loaded, s.parts),
      agg,
      parts: s.parts,
      isolation: s.isolation,
      outcome,
      cohorts: s.cohorts.length,
      threads: s.threads,
      stop: { reason, interrupted: controller.interrupted, engineFailures: ending.afterFailure === undefined ? controller.failures : [...controller.failures, ending.afterFailure] },
      watch: { abortedBy: watch.abortedBy, breakpoint: watch.breakpoint },
      findings,
      target: { url: s.target.url, ...fixture, ...(s.target.command !== undefined && { command: s.target.command }) }
    })
    if (histograms !== undefined) ending.result.shard = shardReport(s, outcome, histograms)
  })
  shutdown.on('report written', async () => {
    const result = ending.result
    if (result === undefined) throw new InternalError('the report step ran without a result')
    selfCheckReport(result)
    if (o.out !== null) await writeReports(o.out, result, o.reports)
  })
}

/** A shard's place, users and histograms (after the result is built: its series is closed then). */
function shardReport (s: RunSession, outcome: CohortOutcome, histograms: ShardHistograms): ShardReport {
  const shard = s.o.distributed.shard!
  const entries = s.o.scenarios === null ? [{ name: undefined, plan: s.o.plan }] : s.o.scenarios
  let base = 0
  const users = entries.map((e) => {
    const slice = shardSlice(e.plan.maxUsers, shard)
    const range = { ...(e.name !== undefined && { scenario: e.name }), from: base + slice.from, to: base + slice.to }
    base += e.plan.maxUsers
    return range
  })
  return {
    index: shard.index,
    count: shard.count,
    users,
    loadStartedAtEpochMs: Math.round(performance.timeOrigin + (outcome.loadStartedAt ?? outcome.loadEndedAt)),
    histograms: histograms.encode(new Map(s.parts.map(p => [p.entry.name, p.agg])))
  }
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
    plannedUsers: shardUsers(o),
    reqPerS: last?.counters[METRICS.httpReqs] ?? 0,
    p95Ms: last?.trends[METRICS.httpReqDuration]?.p95 ?? null,
    errors: agg.counter(METRICS.errors),
    failedRequests: agg.rate(METRICS.httpReqFailed).passes,
    eventsReceived: agg.counter(METRICS.wsEventsReceived),
    eventsPerS: last?.counters[METRICS.wsEventsReceived] ?? 0
  }
}
