// After a failed iteration a closed-model user waits before its next one: a target that fails at
// once (a dropped socket, a refused connection) must not be hammered in a tight loop that burns
// both cores and counts hundreds of thousands of identical errors. The wait starts at the
// configured value, doubles while failures go on, is capped at 10 times the start, and is
// forgotten after a success. It ends at once when the run stops or the user's load ends.

/** the longest wait, as a multiple of the first */
export const BACKOFF_MAX_FACTOR = 10

export class ErrorBackoff {
  readonly #initialMs: number
  readonly #next = new WeakMap<object, number>()

  constructor (initialMs: number) {
    this.#initialMs = Math.max(0, initialMs)
  }

  /** The wait after `user`'s failed iteration (0 when off); the one after that is doubled. */
  failed (user: object): number {
    if (this.#initialMs === 0) return 0
    const wait = this.#next.get(user) ?? this.#initialMs
    this.#next.set(user, Math.min(wait * 2, this.#initialMs * BACKOFF_MAX_FACTOR))
    return wait
  }

  /** A success: the next failure waits the first wait again. */
  succeeded (user: object): void {
    this.#next.delete(user)
  }
}

/** Waits `ms`, or less when `until` resolves first (the run stopping); the timer never outlives it. */
export async function waitUnless (ms: number, until: Promise<unknown>): Promise<void> {
  if (ms <= 0) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([new Promise<void>(resolve => { timer = setTimeout(resolve, ms) }), until])
  clearTimeout(timer)
}
