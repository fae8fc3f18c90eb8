// When a shard's load phase may start, once its users are set up: at a wall-clock time, or when
// the coordinator releases every shard (coordinator-client.ts). Either wait is bounded by
// --start-timeout and ends early on an interrupt.
import type { ResolvedRunOptions } from '../options/index.js'
import { awaitRelease } from './coordinator-client.js'
import { waitUntilEpoch } from './wait-until-epoch.js'

export type StartGate = (signal: AbortSignal) => Promise<void>

/** The run's start gate, or undefined when its load starts as soon as it is set up. */
export function startGateOf (o: Pick<ResolvedRunOptions, 'distributed'>): StartGate | undefined {
  const d = o.distributed
  if (d.startAtMs !== null) {
    const at = d.startAtMs
    return async signal => await waitUntilEpoch(at, d.startTimeoutMs, signal)
  }
  const { coordinator, shard, runId, secret } = d
  // options refuse --coordinator without a shard, its run id and secret; all are here then
  if (coordinator !== null && shard !== null && runId !== null && secret !== null) {
    return async signal => { await awaitRelease({ url: coordinator, runId, shard, secret, timeoutMs: d.startTimeoutMs, signal }) }
  }
  return undefined
}
