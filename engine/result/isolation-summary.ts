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

export interface IsolationSummary {
  violations: number
  byKind: Partial<Record<ViolationKind, number>>
  /** canaries of the right shape whose HMAC failed: seen and ignored */
  forgedCanaries: number
  samples: Violation[]
}
