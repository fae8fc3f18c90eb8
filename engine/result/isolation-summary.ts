// Isolation evidence as reported: counts by kind (exact) and bounded, redacted samples.

export type ViolationKind =
  /** another user's canary in an HTTP response body or header */
  | 'foreign-data'
  /** another user's canary in a WebSocket frame */
  | 'foreign-event'
  /** a probe reached another user's resource by swapping in its id */
  | 'foreign-access'
  /** a probe with another user's credentials reached this user's resource */
  | 'foreign-credentials'
  /** a read showed another user's data (their canary) or a value the user never wrote */
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

/** A read that showed one of the reader's own earlier writes instead of its last: not isolation. */
export interface StaleRead {
  user: string
  key: string
  where?: string
  /** how long before the read the value was replaced by the reader's next write */
  staleByMs: number
  /** within the `maxStaleMs` the scenario allowed (else a failed check) */
  withinBudget: boolean
  at: string
}

export interface IsolationSummary {
  /** one per foreign owner per body, frame, probe or read: a list leaking 50 notes of 3 users is 3 */
  violations: number
  byKind: Partial<Record<ViolationKind, number>>
  /** distinct (user, owner, route or channel, kind): the same leak seen again is one incident */
  incidents: number
  incidentsByKind: Partial<Record<ViolationKind, number>>
  /** canaries of the right shape whose HMAC failed: seen and ignored */
  forgedCanaries: number
  samples: Violation[]
  /**
   * `probe.asOther` answers carrying only the credential owner's canaries: the route serves the
   * caller's own data, so the probe tests nothing there (not violations); `routes`: a few of them
   */
  callerData: { probes: number, routes: string[] }
  /** `writes.verify` reads that showed the reader's own older write; `beyondBudget` failed their check */
  staleReads: { count: number, beyondBudget: number, samples: StaleRead[] }
}
