export { LeakMonitor, type LeakMonitorOptions } from './leak-monitor.js'
export { remoteBackend, inProcessBackend, memwatchBackend, type HeapBackend, type HeapBackendKind, type HeapReading } from './heap-backend.js'
export { DevToolsClient, debuggerUrl } from './devtools-client.js'
export { analyzeHeapTrend, mannKendall, theilSen, type TrendOptions } from './trend.js'
