// `crosstalk merge`: the shards' report.json files -> the report one process would have written.
// Counts are exact (sums), percentiles come from merged histograms, the series lines up on the
// common start, thresholds are evaluated again on the merged totals, isolation evidence and
// errors combine, and each shard's leak verdict is listed (the worst is the run's).
import { METRICS, OTHER_NAME, noteOutages, taggedKey, type MetricsAggregator } from '../metrics/index.js'
import { decideOutcome, SCHEMA_VERSION, type RunResult, type ScenarioReport, type StopReason, type ThresholdResult } from '../result/index.js'
import { compileThresholds, evaluateThresholds, runThresholdInput, scenarioFigures, withDefaultBudget, type ThresholdDefinitions } from '../thresholds/index.js'
import type { MergeInput, ShardInput } from './merge-input.js'
import { mergeMetrics } from './merge-metrics.js'
import { mergeCheckFailures, mergeErrors, mergeEvents, mergeIsolation, mergeUsers, mergeWorkers, worstLeak } from './merge-parts.js'

const round3 = (v: number): number => Math.round(v * 1000) / 1000

/** Lines of a shard's `failures` the merge decides again from the merged figures; the rest (engine failures) carry over. */
const DERIVED_FAILURE = /^(threshold |failed requests above the default budget|nothing was measured|\d+ isolation violations$|\d+ of \d+ users lost$|\d+ errors$|\d+ checks failed$|memory leak: )/

/** When shards stopped for different reasons, the merged run reports the most abrupt. */
const STOP_ORDER: StopReason[] = ['interrupt', 'hard-deadline', 'abort-on-fail', 'breakpoint', 'max-duration', 'iterations', 'duration']

export function mergeShardReports (input: MergeInput): RunResult {
  const results = input.shards.map(s => s.result)
  const first = results[0]!
  const { agg, scenarios } = mergeMetrics(input.shards)
  // the load phase on the merged clock: from the first shard's start to the last one's end
  const at = (s: ShardInput, seconds: number): number => (s.startedAtMs - input.originMs) / 1000 + seconds
  const loadWindow = {
    startS: round3(Math.min(...input.shards.map(s => at(s, s.result.loadWindow.startS)))),
    endS: round3(Math.max(...input.shards.map(s => at(s, s.result.loadWindow.endS))))
  }
  const loadDurationMs = Math.max(0, (loadWindow.endS - loadWindow.startS) * 1000)
  const outages = noteOutages(agg, loadWindow)
  const thresholds = evaluateThresholds(recompiledThresholds(first), runThresholdInput(agg, scenarios, loadDurationMs / 1000))
  const users = mergeUsers(results, agg.gauge(METRICS.usersActive)?.max ?? 0)
  const errors = mergeErrors(results)
  const isolation = mergeIsolation(results)
  const leaks = worstLeak(results)
  const interrupted = results.some(r => r.status === 'interrupted')
  const { status, failures } = decideOutcome({
    interrupted,
    engineFailures: input.shards.flatMap(s => s.result.failures.filter(f => !DERIVED_FAILURE.test(f)).map(f => `shard ${s.result.shard.index}: ${f}`)),
    breakpoint: first.breakpoint,
    thresholds,
    violations: isolation.violations,
    users,
    errors: errors.count,
    iterations: agg.trend(METRICS.iterationDuration)?.count ?? 0,
    checksFailed: agg.rate(METRICS.checks).fails,
    leak: leaks
  })
  const scenarioReports = mergeScenarios(input.shards, scenarios, thresholds, loadDurationMs)
  const customMetrics = agg.customMetrics()
  return {
    schemaVersion: SCHEMA_VERSION,
    status,
    failures,
    stopReason: STOP_ORDER.find(reason => results.some(r => r.stopReason === reason)) ?? first.stopReason,
    runId: input.runId,
    startedAt: new Date(input.originMs).toISOString(),
    durationMs: Math.round(Math.max(...input.shards.map(s => s.startedAtMs + s.result.durationMs)) - input.originMs),
    loadDurationMs: Math.round(loadDurationMs),
    loadWindow,
    scenario: first.scenario,
    executor: first.executor,
    ...(first.breakpoint !== undefined && { breakpoint: first.breakpoint }),
    thresholds,
    ...(scenarioReports !== undefined && { scenarios: scenarioReports }),
    users,
    ...mergeWorkers(results),
    metrics: agg.summary(loadDurationMs / 1000),
    ...(Object.keys(customMetrics).length > 0 && { customMetrics }),
    requestNames: requestNames(results, agg),
    timeSeries: agg.series(),
    outages,
    errors,
    checkFailures: mergeCheckFailures(results),
    hints: [...new Set(results.flatMap(r => r.hints))],
    events: mergeEvents(results),
    isolation,
    ...(leaks !== undefined && { leaks }),
    mergedFrom: {
      shards: input.shards.map(s => ({
        index: s.result.shard.index,
        report: s.path,
        startedAt: s.result.startedAt,
        status: s.result.status,
        users: s.result.users.planned,
        startOffsetMs: Math.round(s.result.shard.loadStartedAtEpochMs - Math.min(...input.shards.map(x => x.result.shard.loadStartedAtEpochMs))),
        ...(s.result.leaks !== undefined && { leak: { verdict: s.result.leaks.verdict, reason: s.result.leaks.reason, target: s.result.target.url } })
      }))
    },
    target: { url: first.target.url }
  }
}

/**
 * The run's thresholds from a shard's report (every shard has the same): its own expressions
 * compiled again, and the default failure budget added again if it had it.
 */
function recompiledThresholds (r: RunResult): ReturnType<typeof compileThresholds> {
  const defs: ThresholdDefinitions = {}
  for (const t of r.thresholds) {
    if (t.default === true) continue
    const list = defs[t.metric] ?? []
    defs[t.metric] = [...(Array.isArray(list) ? list : [list]), { threshold: t.expression, abortOnFail: t.abortOnFail }]
  }
  const compiled = compileThresholds(defs, r.customMetrics)
  return r.thresholds.some(t => t.default === true) ? withDefaultBudget(compiled) : compiled
}

function requestNames (results: readonly RunResult[], agg: MetricsAggregator): RunResult['requestNames'] {
  const n = agg.requestNames()
  const folded = results.flatMap(r => r.requestNames.folded === undefined ? [] : [r.requestNames.folded])
  const foldedTags: NonNullable<RunResult['requestNames']['foldedTags']> = {}
  for (const r of results) {
    for (const [tag, f] of Object.entries(r.requestNames.foldedTags ?? {})) {
      foldedTags[tag] = { values: (foldedTags[tag]?.values ?? 0) + f.values, example: foldedTags[tag]?.example ?? f.example }
    }
  }
  return {
    cap: n.cap,
    kept: n.kept,
    ...(folded.length > 0 && { folded: { names: folded.reduce((k, f) => k + f.names, 0), requests: agg.counter(taggedKey(METRICS.httpReqs, 'name', OTHER_NAME)), example: folded[0]!.example } }),
    ...(Object.keys(foldedTags).length > 0 && { foldedTags })
  }
}

/** Each plan entry: the first shard's description, users summed, metrics and thresholds from the merged entry. */
function mergeScenarios (shards: readonly ShardInput[], aggs: ReadonlyMap<string, MetricsAggregator>, thresholds: readonly ThresholdResult[], loadDurationMs: number): Record<string, ScenarioReport> | undefined {
  const first = shards[0]!.result.scenarios
  if (first === undefined) return undefined
  const out: Record<string, ScenarioReport> = {}
  for (const [name, report] of Object.entries(first)) {
    const agg = aggs.get(name)!
    const parts = shards.flatMap(s => s.result.scenarios?.[name] ?? [])
    const sum = (k: keyof ScenarioReport['users']): number => parts.reduce((n, p) => n + p.users[k], 0)
    const durationMs = typeof report.executor.durationMs === 'number' ? report.executor.durationMs : Infinity
    const ranMs = Math.max(0, Math.min(loadDurationMs - report.startTimeMs, durationMs))
    out[name] = {
      ...report,
      users: { planned: sum('planned'), allocated: sum('allocated'), peakActive: sum('peakActive'), completed: sum('completed'), lost: sum('lost'), interrupted: sum('interrupted') },
      ...scenarioFigures(name, agg, thresholds, ranMs)
    }
  }
  return out
}
