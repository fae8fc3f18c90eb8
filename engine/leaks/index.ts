export { LeakMonitor, type LeakMonitorOptions, type LeakReport, type LeakSuspect } from './leak-monitor.js'
export { remoteBackend, inProcessBackend, memwatchBackend, type HeapBackend, type HeapBackendKind, type HeapReading } from './heap-backend.js'
export { DevToolsClient, debuggerUrl } from './devtools-client.js'
export { analyzeHeapTrend, mannKendall, theilSen, type HeapSample, type LeakVerdict, type TrendResult, type TrendOptions } from './trend.js'
