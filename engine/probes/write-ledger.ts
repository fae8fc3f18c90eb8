// Read-your-writes: `user.writes.record(key, value)` after a write, `user.writes.verify(key, read)`
// after a later read. A read that differs from the user's own last write is a violation; if it
// carries another user's canary, that user is named as the owner.
import type { CohortIsolation } from '../isolation/index.js'
import { redact } from '../shared/index.js'

export class WriteLedger {
  readonly #last = new Map<string, string>()
  readonly #user: { id: number, name: string }
  readonly #iso: CohortIsolation

  constructor (user: { id: number, name: string }, iso: CohortIsolation) {
    this.#user = user
    this.#iso = iso
  }

  record (key: string, value: unknown): void {
    this.#last.set(key, JSON.stringify(value) ?? 'undefined')
  }

  /** True when `actual` equals the last recorded write of `key` (or nothing was recorded). */
  verify (key: string, actual: unknown, where?: string): boolean {
    const expected = this.#last.get(key)
    if (expected === undefined) return true
    const got = JSON.stringify(actual) ?? 'undefined'
    if (got === expected) return true
    const foreign = this.#iso.scanner.scan(got, this.#user.id)
    this.#iso.violation({
      kind: 'read-your-writes',
      user: this.#user.name,
      owner: foreign !== undefined ? `user-${foreign[0]!.owner}` : this.#user.name,
      where: { part: 'read', ...(where !== undefined && { path: where }) },
      excerpt: redact(`${key}: wrote ${expected.slice(0, 70)} read ${got.slice(0, 70)}`)
    })
    return false
  }
}
