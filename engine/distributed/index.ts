export { startGateOf } from './start-gate.js'
