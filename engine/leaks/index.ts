export { LeakMonitor, type LoadPause } from './leak-monitor.js'
export { remoteBackend, inProcessBackend, memwatchBackend, type HeapBackend } from './heap-backend.js'
export { DevToolsClient } from './devtools-client.js'
export { analyzeHeapTrend, mannKendall, theilSen } from './trend.js'
