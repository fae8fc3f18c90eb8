// crosstalk's public API.
export { defineScenario, type Scenario } from './scenario/index.js'
export { run, type RunOptions, type RunProgress, type RunResult, type RunStatus } from './runner/index.js'
export type { UserContext, UserHttp, UserSocket, WsMessage, HttpResponse, RequestOptions, WsOptions } from './context/index.js'
export { METRICS, type MetricSummary, type TrendSummary, type SeriesPoint } from './metrics/index.js'
export { formatSummary, writeJsonReport } from './report/index.js'
export * from './errors.js'
