// Request names are metric tags: each distinct name adds keys to every tick, to report.json and to
// the summary. A run that names requests after concrete paths (one name per user or resource)
// would grow them without bound, so names beyond a cap fold into `(other)`. Workers fold what
// passes their own cap; the main thread folds again, so the cap holds run-wide.

export const OTHER_NAME = '(other)'
export const DEFAULT_MAX_REQUEST_NAMES = 200
/** distinct folded names remembered for counting; beyond it the count is a lower bound */
const FOLDED_TRACKED = 10_000

export interface FoldedNames {
  /** distinct names folded (here, since the last drain) */
  names: number
  /** one of them */
  example: string
}

export class NameCap {
  readonly limit: number
  readonly #kept = new Set<string>()
  readonly #folded = new Set<string>()
  #newlyFolded = 0
  #example: string | undefined

  constructor (limit = DEFAULT_MAX_REQUEST_NAMES) {
    this.limit = limit
  }

  /** `name` itself while it is among the first `limit` distinct names, else `(other)`. */
  bound (name: string): string {
    if (name === OTHER_NAME || this.#kept.has(name)) return name
    if (this.#kept.size < this.limit) {
      this.#kept.add(name)
      return name
    }
    if (this.#folded.size < FOLDED_TRACKED && !this.#folded.has(name)) {
      this.#folded.add(name)
      this.#newlyFolded++
      this.#example ??= name
    }
    return OTHER_NAME
  }

  get kept (): number {
    return this.#kept.size
  }

  /** Names folded since the last drain (undefined: none). */
  drain (): FoldedNames | undefined {
    if (this.#newlyFolded === 0) return undefined
    const out = { names: this.#newlyFolded, example: this.#example ?? OTHER_NAME }
    this.#newlyFolded = 0
    return out
  }
}
