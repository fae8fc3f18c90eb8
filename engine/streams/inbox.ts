// An awaitable inbox of what a socket received: next()/waitFor() take the first queued or future
// message a predicate accepts, within a timeout; what nobody awaits is kept up to a bound. A
// predicate that throws rejects its own wait with its own error (the scenario's stack) and
// nothing else: the message goes on to other waiters or the queue, the worker never sees it.
interface Waiter<T> {
  match: (m: T) => boolean
  resolve: (m: T) => void
  reject: (e: unknown) => void
  timer: NodeJS.Timeout
}

export class Inbox<T> {
  /** messages dropped from the queue because nobody consumed them */
  dropped = 0
  readonly #limit: number
  // a deque: #queue[#head..] are queued; shifting is O(1), compaction amortized
  #queue: T[] = []
  #head = 0
  readonly #waiters = new Set<Waiter<T>>()

  /** `limit`: messages kept while nobody awaits them (0: none kept), the oldest dropped beyond it. */
  constructor (limit: number) {
    this.#limit = limit
  }

  get queued (): number {
    return this.#queue.length - this.#head
  }

  /**
   * The first queued or future message `match` accepts; earlier non-matching ones stay queued.
   * Always a promise: a throwing `match` or a closed source rejects it.
   */
  waitFor (match: (m: T) => boolean, timeoutMs: number, closed: () => Error | undefined, timedOut: () => Error): Promise<T> {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const m = this.#queue[i]!
      try {
        if (!match(m)) continue
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)))
      }
      if (i === this.#head) this.#head++
      else this.#queue.splice(i, 1)
      return Promise.resolve(m)
    }
    const closedError = closed()
    if (closedError !== undefined) return Promise.reject(closedError)
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter)
          reject(timedOut())
        }, timeoutMs)
      }
      this.#waiters.add(waiter)
    })
  }

  /** Hands `m` to the first waiter that wants it, else queues it. */
  deliver (m: T): void {
    // most frames of an event stream arrive with nobody waiting: no iterator over an empty set
    if (this.#waiters.size > 0 && this.#handOver(m)) return
    if (this.#limit <= 0) return
    if (this.queued >= this.#limit) {
      this.#head++
      this.dropped++
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    this.#queue.push(m)
  }

  /** true when a waiter took `m`; a waiter whose match throws is rejected with the error */
  #handOver (m: T): boolean {
    for (const w of this.#waiters) {
      let wanted: boolean
      try {
        wanted = w.match(m)
      } catch (err) {
        this.#settle(w)
        w.reject(err)
        continue
      }
      if (wanted) {
        this.#settle(w)
        w.resolve(m)
        return true
      }
    }
    return false
  }

  /** Takes every queued message without waiting. */
  drain (): T[] {
    const out = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    return out
  }

  /** Rejects every pending wait (the socket closed). */
  failAll (err: Error): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer)
      w.reject(err)
    }
    this.#waiters.clear()
  }

  #settle (w: Waiter<T>): void {
    clearTimeout(w.timer)
    this.#waiters.delete(w)
  }
}
