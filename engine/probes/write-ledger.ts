// Read-your-writes: `user.writes.record(key, value)` after a write, `user.writes.verify(key, read)`
// after a later read. The last write read back is fresh. One of the reader's own earlier writes is
// a stale read (a cache, a lagging replica): not isolation, so never a violation; within
// `maxStaleMs` it is allowed, beyond it a failed check. Another user's canary in the read is a
// `read-your-writes` violation naming that user; a value the reader never wrote (lost write, or
// another user's data without a canary) is one too, with owner `unknown`.
import { METRICS, taggedKey } from '../metrics/index.js'
import type { CohortIsolation } from '../isolation/index.js'
import { redact } from '../shared/index.js'

export interface VerifyOptions {
  /** how long a replaced write of the reader may still be read back (default 0: not at all) */
  maxStaleMs?: number
  /** where the read came from (a path), for evidence */
  where?: string
}

/** the reader's own writes kept per key, newest last: a read older than these counts as unknown */
export const WRITES_KEPT = 256
const CHECK = 'read-your-writes within budget'

interface Write { value: string, at: number }

export class WriteLedger {
  readonly #writes = new Map<string, Write[]>()
  readonly #user: { id: number, name: string }
  readonly #iso: CohortIsolation

  constructor (user: { id: number, name: string }, iso: CohortIsolation) {
    this.#user = user
    this.#iso = iso
  }

  record (key: string, value: unknown): void {
    let list = this.#writes.get(key)
    if (list === undefined) { list = []; this.#writes.set(key, list) }
    list.push({ value: JSON.stringify(value) ?? 'undefined', at: performance.now() })
    if (list.length > WRITES_KEPT) list.shift()
  }

  /**
   * True when `actual` is the last recorded write of `key` (or nothing was recorded), or one of
   * the user's own earlier writes replaced at most `maxStaleMs` ago. `options` may be the old
   * third argument, `where` (a string).
   */
  verify (key: string, actual: unknown, options?: string | VerifyOptions): boolean {
    const o: VerifyOptions = typeof options === 'string' ? { where: options } : options ?? {}
    const list = this.#writes.get(key)
    if (list === undefined || list.length === 0) return true
    const got = JSON.stringify(actual) ?? 'undefined'
    if (got === list.at(-1)!.value) return this.#check(true)
    // newest first: the most recent time this value stopped being current
    for (let i = list.length - 2; i >= 0; i--) {
      if (list[i]!.value !== got) continue
      const staleByMs = Math.round(performance.now() - list[i + 1]!.at)
      const withinBudget = staleByMs <= (o.maxStaleMs ?? 0)
      this.#iso.staleRead({ user: this.#user.name, key, staleByMs, withinBudget, ...(o.where !== undefined && { where: o.where }) })
      return this.#check(withinBudget)
    }
    const foreign = this.#iso.scanner.scan(got, this.#user.id)
    this.#iso.violation({
      kind: 'read-your-writes',
      user: this.#user.name,
      owner: foreign !== undefined ? `user-${foreign[0]!.owner}` : 'unknown',
      where: { part: 'read', ...(o.where !== undefined && { path: o.where }) },
      excerpt: redact(`${key}: wrote ${list.at(-1)!.value.slice(0, 70)} read ${got.slice(0, 70)}`)
    })
    return false
  }

  #check (passed: boolean): boolean {
    this.#iso.recorder.rate(METRICS.checks, passed)
    this.#iso.recorder.rate(taggedKey(METRICS.checks, 'check', CHECK), passed)
    return passed
  }
}
