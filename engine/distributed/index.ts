export { startGateOf } from './start-gate.js'
export { ShardHistograms } from './shard-histograms.js'
export { mergeShards } from './merge.js'
