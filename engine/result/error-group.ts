// Errors as reported: grouped by phase and cause, with a count and the first user that hit it.

export type Phase = 'setup' | 'iteration' | 'teardown'

/**
 * Errors are grouped in the worker by a normalized cause (phase, code, system cause, method,
 * route template, status, message with ids masked); counts travel, not every occurrence.
 */
export interface ErrorGroup {
  phase: Phase
  /** one sample message, redacted */
  message: string
  /** crosstalk's code (CT_ERR_*) or the code the thrown error carried */
  code?: string
  /** what failed underneath: the system code (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT ...) or undici's (UND_ERR_SOCKET ...) */
  cause?: string
  /** the request that failed: its method (WS for a WebSocket) and path with ids as `:id` */
  method?: string
  route?: string
  /** the HTTP status involved (a non-JSON answer, a refused WebSocket handshake) */
  status?: number
  /** where the scenario's own code threw: `file:line:column` of its first frame outside crosstalk */
  at?: string
  /** first user that hit it */
  user: string
  count: number
}
