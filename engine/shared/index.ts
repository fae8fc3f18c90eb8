// The ground floor: small pieces every folder may use. Imports nothing from engine/ above it.
export { parseDuration, MAX_DURATION_MS } from './duration.js'
export { writeFileAtomic } from './atomic-write.js'
export { isLoopbackHost } from './loopback.js'
export { closestName, editDistance } from './closest.js'
export { redact, excerptAround } from './redact.js'
export { createControlBlock, signal, waitUntilChanged, READY, GO, STOP, PARTIES, BURST_BASE, BURST_SLOTS, STOP_NONE, STOP_GRACEFUL, STOP_ABORT, STOP_DONE } from './control-block.js'
export { Lifecycle, IllegalTransitionError, type Transitions } from './lifecycle.js'
export { withTimeout, delay } from './with-timeout.js'
