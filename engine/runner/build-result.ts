// Everything measured, put together as the RunResult (report.json) with its pass/fail decision.
import type { IsolationAggregator } from '../isolation/index.js'
import { METRICS, OTHER_NAME, noteOutages, taggedKey, type MetricsAggregator } from '../metrics/index.js'
import type { ResolvedRunOptions } from '../options/index.js'
import type { CohortOutcome } from '../pool/index.js'
import { decideOutcome, SCHEMA_VERSION, type BreakpointReport, type CheckFailure, type RequestNamesReport, type RunResult, type StopReason, type ThresholdResult } from '../result/index.js'
import { redact, redactUrl } from '../shared/index.js'
import { evaluateThresholds, runThresholdInput } from '../thresholds/index.js'
import { runHints } from './hints.js'
import type { PlanPart } from './plan-parts.js'
import { scenarioReports } from './scenario-reports.js'
import type { InspectionFindings } from './target-inspection.js'

export interface MeasuredRun {
  o: ResolvedRunOptions
  runId: string
  startedAt: Date
  /** performance.now() at the run's start: the time series' origin */
  t0: number
  scenario: { name: string, source: string }
  agg: MetricsAggregator
  /** a plan of several scenarios: each entry with its aggregator (empty: one scenario) */
  parts: readonly PlanPart[]
  isolation: IsolationAggregator
  outcome: CohortOutcome
  cohorts: number
  threads: number
  stop: { reason: StopReason, interrupted: boolean, engineFailures: readonly string[] }
  watch: { abortedBy: ThresholdResult | undefined, breakpoint: BreakpointReport | undefined }
  findings: InspectionFindings
  target: RunResult['target']
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000

/** The scenario's own metrics, when it recorded or declared any (report.json `customMetrics`). */
function customMetricsOf (agg: MetricsAggregator): Pick<RunResult, 'customMetrics'> {
  const custom = agg.customMetrics()
  return Object.keys(custom).length === 0 ? {} : { customMetrics: custom }
}

function requestNamesOf (agg: MetricsAggregator): RequestNamesReport {
  const n = agg.requestNames()
  const requests = agg.counter(taggedKey(METRICS.httpReqs, 'name', OTHER_NAME))
  return {
    cap: n.cap,
    kept: n.kept,
    ...(n.folded !== undefined && { folded: { names: n.folded.names, requests, example: redact(n.folded.example) } }),
    ...(Object.keys(n.foldedTags).length > 0 && {
      foldedTags: Object.fromEntries(Object.entries(n.foldedTags).map(([tag, f]) => [tag, { values: f.values, example: redact(f.example) }]))
    })
  }
}

export function buildRunResult (m: MeasuredRun): RunResult {
  const { o, agg, outcome } = m
  const loadDurationMs = outcome.loadStartedAt === null ? 0 : outcome.loadEndedAt - outcome.loadStartedAt
  const errorCount = outcome.errors.reduce((n, g) => n + g.count, 0)
  const iso = m.isolation.summary()
  const loadWindow = {
    startS: outcome.loadStartedAt === null ? 0 : round3((outcome.loadStartedAt - m.t0) / 1000),
    endS: outcome.loadStartedAt === null ? 0 : round3((outcome.loadEndedAt - m.t0) / 1000)
  }
  const outages = noteOutages(agg, loadWindow)
  const thresholds = evaluateThresholds(o.thresholds, runThresholdInput(agg, new Map(m.parts.map(p => [p.entry.name, p.agg])), loadDurationMs / 1000))
  const scenarios = scenarioReports(m.parts, outcome.scenarioUsers, thresholds, loadDurationMs)
  const { status, failures } = decideOutcome({
    interrupted: m.stop.interrupted,
    engineFailures: [...outcome.failures, ...m.stop.engineFailures],
    abortedBy: m.watch.abortedBy,
    breakpoint: m.watch.breakpoint,
    thresholds,
    violations: iso.violations,
    users: outcome.users,
    errors: errorCount,
    // iteration.duration is recorded only for iterations that did not throw
    iterations: agg.trend(METRICS.iterationDuration)?.count ?? 0,
    checksFailed: agg.rate(METRICS.checks).fails,
    leak: m.findings.leaks
  })
  return {
    schemaVersion: SCHEMA_VERSION,
    status,
    // a worker's crash message may quote what it was handling
    failures: failures.map(redact),
    stopReason: m.stop.reason,
    runId: m.runId,
    startedAt: m.startedAt.toISOString(),
    durationMs: Math.round(performance.now() - m.t0),
    loadDurationMs: Math.round(loadDurationMs),
    loadWindow,
    scenario: m.scenario,
    executor: { name: o.plan.executor, model: o.plan.model, ...o.plan.params, profile: o.plan.profile },
    ...(m.watch.breakpoint !== undefined && { breakpoint: m.watch.breakpoint }),
    thresholds,
    ...(scenarios !== undefined && { scenarios }),
    users: {
      planned: outcome.users.planned,
      allocated: outcome.users.allocated,
      peakActive: agg.gauge(METRICS.usersActive)?.max ?? 0,
      completed: outcome.users.completed,
      lost: outcome.users.lost,
      interrupted: outcome.users.interrupted
    },
    workers: { threads: outcome.threadsUsed, planned: m.threads, cohorts: m.cohorts },
    selfCheck: outcome.selfCheck,
    metrics: agg.summary(loadDurationMs / 1000),
    ...customMetricsOf(agg),
    requestNames: requestNamesOf(agg),
    timeSeries: agg.series(),
    outages,
    errors: { count: errorCount, groups: outcome.errors },
    checkFailures: checkFailures(agg),
    hints: runHints({ agg, users: outcome.users.allocated, setupConcurrency: o.setupConcurrency }).map(redact),
    isolation: iso,
    ...m.findings,
    events: {
      sent: agg.counter(METRICS.wsEventsSent),
      received: agg.counter(METRICS.wsEventsReceived),
      lost: agg.counter(METRICS.wsEventsLost),
      duplicated: agg.counter(METRICS.wsEventsDuplicated),
      reordered: agg.counter(METRICS.wsEventsReordered),
      unreconciled: agg.counter(METRICS.wsStreamsUnreconciled)
    },
    // --target http://user:password@host: the credentials stay out of the report
    target: { ...m.target, url: redactUrl(m.target.url) }
  }
}


/** Failed checks, most failures first, each with where it first failed (redacted: a sample may quote a path). */
function checkFailures (agg: MetricsAggregator): CheckFailure[] {
  return agg.checkSamples().map((s) => {
    const rate = agg.rate(taggedKey(METRICS.checks, 'check', s.check))
    const first = { user: s.user, ...(s.request !== undefined && { request: redact(s.request) }), ...(s.at !== undefined && { at: s.at }) }
    return { check: s.check, fails: rate.fails, total: rate.passes + rate.fails, first }
  }).sort((a, b) => b.fails - a.fails)
}
