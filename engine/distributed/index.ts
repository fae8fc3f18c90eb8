export { startGateOf } from './start-gate.js'
export { Coordinator, COORDINATOR_DEFAULTS, type CoordinatorEvent } from './coordinator.js'
