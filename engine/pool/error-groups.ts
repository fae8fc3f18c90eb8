// Groups errors by phase + code + message so a storm of identical failures costs one entry.
import { OPEN_FILES_HINT } from '../errors.js'
import type { ErrorGroup, Phase } from '../result/index.js'

export const MAX_ERROR_GROUPS = 50
const OTHER = '(other errors)'

export class ErrorGroups {
  readonly #groups = new Map<string, ErrorGroup>()
  total = 0

  add (phase: Phase, user: string, err: unknown): void {
    this.total++
    const e = err as { message?: unknown, code?: unknown }
    const message = named(typeof e?.message === 'string' ? e.message : String(err))
    const code = typeof e?.code === 'string' ? e.code : undefined
    this.merge({ phase, message, user, count: 1, ...(code !== undefined && { code }) })
  }

  merge (g: ErrorGroup): void {
    const key = `${g.phase}\u0000${g.code ?? ''}\u0000${g.message}`
    const cur = this.#groups.get(key)
    if (cur !== undefined) { cur.count += g.count; return }
    if (this.#groups.size >= MAX_ERROR_GROUPS && g.message !== OTHER) {
      // Past the bound, further distinct messages are folded into one group per phase.
      this.merge({ phase: g.phase, message: OTHER, user: g.user, count: g.count })
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

/** EMFILE says nothing to most users: name it, and what to do. */
function named (message: string): string {
  return /\bEMFILE\b/.test(message) ? `${message} (too many open files: ${OPEN_FILES_HINT})` : message
}
