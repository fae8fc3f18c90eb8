// Errors as reported: grouped by phase and cause, with a count and the first user that hit it.

export type Phase = 'setup' | 'iteration' | 'teardown'

/** Errors are grouped by phase and message in the worker; counts travel, not every occurrence. */
export interface ErrorGroup {
  phase: Phase
  message: string
  code?: string
  /** first user that hit it */
  user: string
  count: number
}
