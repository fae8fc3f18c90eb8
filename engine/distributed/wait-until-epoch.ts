// Waiting for a wall-clock moment (--start-at, or the coordinator's start time), bounded and
// interruptible.
import { StartError } from '../errors.js'

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
