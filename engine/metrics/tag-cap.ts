// Tag values are metric keys too: like request names, each distinct value of a tag adds keys to
// every tick, to report.json and to the summary. Each tag name gets its own cap (the run's
// maxRequestNames); values beyond it fold into `(other)`. The `name` tag is the request-name cap.
import { NameCap, type FoldedNames } from './name-cap.js'

export class TagCap {
  /** the `name` tag's cap (request names, reported on their own as today) */
  readonly names: NameCap
  readonly #others = new Map<string, NameCap>()

  constructor (names: NameCap) {
    this.names = names
  }

  /** `value` while it is among the first `limit` values of `tag`, else `(other)`. */
  bound (tag: string, value: string): string {
    if (tag === 'name') return this.names.bound(value)
    let cap = this.#others.get(tag)
    if (cap === undefined) {
      cap = new NameCap(this.names.limit)
      this.#others.set(tag, cap)
    }
    return cap.bound(value)
  }

  /** Values folded since the last drain per tag other than `name` (undefined: none). */
  drain (): Record<string, FoldedNames> | undefined {
    let out: Record<string, FoldedNames> | undefined
    for (const [tag, cap] of this.#others) {
      const folded = cap.drain()
      if (folded !== undefined) (out ??= {})[tag] = folded
    }
    return out
  }

  /** Distinct values kept per tag other than `name`. */
  kept (): Record<string, number> {
    return Object.fromEntries([...this.#others].map(([tag, cap]) => [tag, cap.kept]))
  }
}
