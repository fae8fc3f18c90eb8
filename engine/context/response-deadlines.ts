// Whole-response deadlines of a thread's requests, checked by one timer every SWEEP_MS instead of
// a setTimeout per request (a Timeout object, a closure and two list operations on every request
// of the hot path). A deadline fires at most SWEEP_MS late: nothing next to a request timeout.

/** A request waiting for its whole response. */
export interface Expiring {
  /** performance.now() value after which the response is late */
  readonly deadlineAt: number
  expire (): void
}

const SWEEP_MS = 25
const pending = new Set<Expiring>()
let sweeper: NodeJS.Timeout | undefined

export function watchDeadline (request: Expiring): void {
  pending.add(request)
  // stopped by a sweep that finds nothing pending, not by the last request's end: a user with one
  // request at a time would otherwise start and stop the timer per request
  sweeper ??= setInterval(sweep, SWEEP_MS)
}

export function unwatchDeadline (request: Expiring): void {
  pending.delete(request)
}

function sweep (): void {
  if (pending.size === 0) {
    clearInterval(sweeper)
    sweeper = undefined
    return
  }
  const now = performance.now()
  for (const request of pending) {
    if (now < request.deadlineAt) continue
    pending.delete(request)
    request.expire()
  }
}
