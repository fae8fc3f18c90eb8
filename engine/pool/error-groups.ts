// Groups errors by their normalized cause (error-cause.ts) so a storm of identical failures costs
// one entry, however many users, paths and tokens it involves.
import { OPEN_FILES_HINT } from '../errors.js'
import type { ErrorGroup, Phase } from '../result/index.js'
import { groupKey, groupOf } from './error-cause.js'

export const MAX_ERROR_GROUPS = 50
const OTHER = '(other errors)'

export class ErrorGroups {
  readonly #groups = new Map<string, ErrorGroup>()
  total = 0

  add (phase: Phase, user: string, err: unknown): void {
    this.total++
    const g = groupOf(phase, user, err)
    if (g.cause === 'EMFILE' || /\bEMFILE\b/.test(g.message)) g.message = `${g.message} (too many open files: ${OPEN_FILES_HINT})`
    this.merge(g)
  }

  merge (g: ErrorGroup): void {
    const key = groupKey(g)
    const cur = this.#groups.get(key)
    if (cur !== undefined) { cur.count += g.count; return }
    if (this.#groups.size >= MAX_ERROR_GROUPS && g.message !== OTHER) {
      // Past the bound, further distinct groups are folded into one per phase and cause (the cause stays visible).
      this.merge({ phase: g.phase, message: OTHER, ...(g.code !== undefined && { code: g.code }), ...(g.cause !== undefined && { cause: g.cause }), user: g.user, count: g.count })
      return
    }
    this.#groups.set(key, { ...g })
  }

  list (): ErrorGroup[] {
    return [...this.#groups.values()].sort((a, b) => b.count - a.count)
  }

  drain (): ErrorGroup[] {
    const out = this.list()
    this.#groups.clear()
    return out
  }
}
