// When a shard's load phase may start, once its users are set up: at a wall-clock time, or when
// the coordinator releases every shard (coordinator-client.ts). Either wait is bounded by
// --start-timeout and ends early on an interrupt.
import { StartError } from '../errors.js'
import type { ResolvedRunOptions } from '../options/index.js'

export type StartGate = (signal: AbortSignal) => Promise<void>

/** The run's start gate, or undefined when its load starts as soon as it is set up. */
export function startGateOf (o: Pick<ResolvedRunOptions, 'distributed'>): StartGate | undefined {
  const d = o.distributed
  if (d.startAtMs !== null) {
    const at = d.startAtMs
    return async signal => await waitUntilEpoch(at, d.startTimeoutMs, signal)
  }
  return undefined
}

/** Resolves at epoch ms `at` (at once if it has passed); StartError if that is more than `boundMs` away. */
export async function waitUntilEpoch (at: number, boundMs: number, signal: AbortSignal): Promise<void> {
  const wait = at - Date.now()
  if (wait > boundMs) throw new StartError(`the start time is ${Math.round(wait / 1000)}s away, more than --start-timeout (${boundMs / 1000}s)`)
  if (wait <= 0 || signal.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, wait)
    signal.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
