// Violation records: counted by kind without bound, sampled with a bound (memory never grows
// with the count).

export type ViolationKind =
  /** another user's canary in an HTTP response body or header */
  | 'foreign-data'
  /** another user's canary in a WebSocket frame */
  | 'foreign-event'
  /** a probe reached another user's resource by swapping in its id */
  | 'foreign-access'
  /** a probe with another user's credentials reached this user's resource */
  | 'foreign-credentials'
  /** a read did not show the user's own last write */
  | 'read-your-writes'

export const VIOLATION_KINDS: readonly ViolationKind[] = ['foreign-data', 'foreign-event', 'foreign-access', 'foreign-credentials', 'read-your-writes']

export interface Violation {
  kind: ViolationKind
  /** the user who received or reached the data */
  user: string
  /** the user the data belongs to */
  owner: string
  where: {
    method?: string
    path?: string
    channel?: string
    part: 'body' | 'header' | 'frame' | 'status' | 'read'
    header?: string
  }
  /** redacted and bounded */
  excerpt: string
  at: string
  thread: number
}

export interface ViolationDelta {
  counts: Partial<Record<ViolationKind, number>>
  samples: Violation[]
  forged: number
}

export const SAMPLES_PER_KIND = 10

export class ViolationLog {
  readonly #counts = new Map<ViolationKind, number>()
  readonly #sampled = new Map<ViolationKind, number>()
  #samples: Violation[] = []
  #counted: Partial<Record<ViolationKind, number>> = {}
  #forged = 0

  add (v: Violation): void {
    this.#counts.set(v.kind, (this.#counts.get(v.kind) ?? 0) + 1)
    this.#counted[v.kind] = (this.#counted[v.kind] ?? 0) + 1
    const sampled = this.#sampled.get(v.kind) ?? 0
    if (sampled < SAMPLES_PER_KIND) {
      this.#sampled.set(v.kind, sampled + 1)
      this.#samples.push(v)
    }
  }

  forged (n: number): void {
    this.#forged += n
  }

  get total (): number {
    let n = 0
    for (const c of this.#counts.values()) n += c
    return n
  }

  /** What changed since the last drain. */
  drain (): ViolationDelta {
    const delta = { counts: this.#counted, samples: this.#samples, forged: this.#forged }
    this.#counted = {}
    this.#samples = []
    this.#forged = 0
    return delta
  }
}

export interface IsolationSummary {
  violations: number
  byKind: Partial<Record<ViolationKind, number>>
  /** canaries of the right shape whose HMAC failed: seen and ignored */
  forgedCanaries: number
  samples: Violation[]
}

/** Main-thread merge of every cohort's deltas. */
export class IsolationAggregator {
  readonly #summary: IsolationSummary = { violations: 0, byKind: {}, forgedCanaries: 0, samples: [] }
  readonly #sampled = new Map<ViolationKind, number>()

  add (d: ViolationDelta): void {
    const s = this.#summary
    for (const k of Object.keys(d.counts) as ViolationKind[]) {
      const n = d.counts[k] ?? 0
      s.violations += n
      s.byKind[k] = (s.byKind[k] ?? 0) + n
    }
    s.forgedCanaries += d.forged
    for (const v of d.samples) {
      const sampled = this.#sampled.get(v.kind) ?? 0
      if (sampled < SAMPLES_PER_KIND) {
        this.#sampled.set(v.kind, sampled + 1)
        s.samples.push(v)
      }
    }
  }

  summary (): IsolationSummary {
    return { ...this.#summary, byKind: { ...this.#summary.byKind }, samples: [...this.#summary.samples] }
  }
}
