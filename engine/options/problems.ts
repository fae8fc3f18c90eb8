// Every problem of a run's options, collected from flags, the config file and the resolver, and
// thrown once. A problem alone keeps its own code (CT_ERR_THRESHOLD_SYNTAX, CT_ERR_DURATION ...);
// several are one ConfigError listing them all.
import { ConfigError, CrosstalkError } from '../errors.js'

interface Problem {
  message: string
  /** the coded error it came as, if any */
  error: CrosstalkError | null
}

export class Problems {
  readonly #items: Problem[] = []

  add (message: string): void {
    this.#items.push({ message, error: null })
  }

  /** A thrown error: a ConfigError's problems are listed one by one, other codes are kept. */
  addError (err: unknown): void {
    if (err instanceof ConfigError) for (const m of err.problems) this.add(m)
    else if (err instanceof CrosstalkError) this.#items.push({ message: err.message, error: err })
    else this.add(err instanceof Error ? err.message : String(err))
  }

  /** Runs `fn`, recording what it throws (undefined then). */
  catch<T> (fn: () => T): T | undefined {
    try {
      return fn()
    } catch (err) {
      this.addError(err)
      return undefined
    }
  }

  get size (): number {
    return this.#items.length
  }

  get messages (): string[] {
    return this.#items.map(p => p.message)
  }

  /** Nothing, one error of its own kind (several of one kind joined), or a ConfigError listing all. */
  throwIfAny (): void {
    const items = this.#items
    if (items.length === 0) return
    const first = items[0]!.error
    if (first !== null && items.every(p => p.error?.constructor === first.constructor)) {
      if (items.length === 1) throw first
      const Kind = first.constructor as new (message: string) => CrosstalkError
      throw new Kind(this.messages.join('; '))
    }
    throw new ConfigError(this.messages)
  }
}
