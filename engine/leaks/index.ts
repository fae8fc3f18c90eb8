export { LeakMonitor, type LoadPause } from './leak-monitor.js'
export { remoteBackend, inProcessBackend, memwatchBackend, type HeapBackend } from './heap-backend.js'
