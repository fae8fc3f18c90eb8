// A lifecycle as a small table of named states and the moves allowed between them, so a class
// says where it is and an impossible move fails loudly instead of running on in a wrong state.

export class IllegalTransitionError extends Error {
  constructor (what: string, from: string, to: string) {
    super(`${what}: cannot go from '${from}' to '${to}'`)
    this.name = 'IllegalTransitionError'
  }
}

export type Transitions<S extends string> = { readonly [K in S]: readonly S[] }

export class Lifecycle<S extends string> {
  readonly #what: string
  readonly #transitions: Transitions<S>
  #state: S
  readonly #history: S[]

  constructor (what: string, initial: S, transitions: Transitions<S>) {
    this.#what = what
    this.#transitions = transitions
    this.#state = initial
    this.#history = [initial]
  }

  get state (): S {
    return this.#state
  }

  /** every state so far, in order (for tests and diagnostics) */
  get history (): readonly S[] {
    return this.#history
  }

  is (...states: S[]): boolean {
    return states.includes(this.#state)
  }

  can (next: S): boolean {
    return this.#transitions[this.#state].includes(next)
  }

  /** Moves to `next`; throws IllegalTransitionError when the table does not allow it. */
  to (next: S): void {
    if (!this.can(next)) throw new IllegalTransitionError(this.#what, this.#state, next)
    this.#state = next
    this.#history.push(next)
  }

  /** Moves to `next` when allowed; returns whether it moved. */
  tryTo (next: S): boolean {
    if (!this.can(next)) return false
    this.to(next)
    return true
  }
}
