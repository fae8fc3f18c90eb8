// The race tools scenarios call: probes that must be denied, read-your-writes, burst barriers.
export { Probes, type ProbeOptions, type ForeignProbeOptions, type ProbeResult, type ProbeOutcome } from './probes.js'
export { WriteLedger, type VerifyOptions } from './write-ledger.js'
export { arriveAndWait, joinBursts, leaveBursts, type BurstOutcome } from './burst-barrier.js'
