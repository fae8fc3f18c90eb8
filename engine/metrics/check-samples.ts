// Where a check failed: for each check name, the first failure's user, the request that user made
// last and the scenario line of the check. Counts come from the `checks{check:<name>}` rates; this
// only says where to look. Bounded: the first MAX_CHECK_SAMPLES names.

export interface CheckFailureSample {
  check: string
  user: string
  /** the user's last request before the check: `GET /items/:id` */
  request?: string
  /** `file:line:column` of the check in the scenario */
  at?: string
}

export const MAX_CHECK_SAMPLES = 50

export class CheckSamples {
  readonly #byName = new Map<string, CheckFailureSample>()
  #fresh: CheckFailureSample[] = []

  /** true when `check` has no sample yet (worth the cost of building one) */
  wants (check: string): boolean {
    return !this.#byName.has(check) && this.#byName.size < MAX_CHECK_SAMPLES
  }

  add (sample: CheckFailureSample): void {
    if (!this.wants(sample.check)) return
    this.#byName.set(sample.check, sample)
    this.#fresh.push(sample)
  }

  /** samples added since the last drain (the worker ships them with its tick) */
  drain (): CheckFailureSample[] | undefined {
    if (this.#fresh.length === 0) return undefined
    const out = this.#fresh
    this.#fresh = []
    return out
  }

  list (): CheckFailureSample[] {
    return [...this.#byName.values()]
  }
}
