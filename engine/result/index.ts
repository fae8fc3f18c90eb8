// What a run produces, as data: report.json's types and the pass/fail decision. Sits on the
// ground floor so every folder can speak of results without importing the engine that made them.
export { SCHEMA_VERSION, checkSchemaVersion, type RunResult, type RunStatus, type StopReason, type TargetStartup, type CheckFailure } from './run-result.js'
export { decideOutcome } from './outcome.js'
export type { CounterSummary, RateSummary, GaugeSummary, TrendSummary, MetricSummary, SeriesPoint, RequestNamesReport } from './metric-summary.js'
export { VIOLATION_KINDS, type ViolationKind, type Violation, type IsolationSummary, type StaleRead } from './isolation-summary.js'
export type { HeapSample, LeakVerdict, TrendResult, SlopeInterval, LeakSuspect, LeakReport, LeakReadings, LeakFigures, HeapDiffGroup, HeapDiffReport } from './leak-report.js'
export type { Phase, ErrorGroup } from './error-group.js'
export { EXECUTORS, type ExecutorName, type ProfilePoint, type BreakpointReport } from './executor-report.js'
export type { ThresholdResult } from './threshold-result.js'
export { OUTAGE_RULES, type Outage } from './outage.js'
export type { ScenarioReport } from './scenario-report.js'
export type { ShardReport } from './shard-report.js'
