// What an error of a user is about, normalized so that one cause is one group however many users
// hit it: per-user ids and tokens in paths and messages become placeholders, and the code of
// what failed underneath (undici hides ECONNREFUSED in `code` or `cause.code`) is brought up.
import { redact, routeTemplate, scenarioFrame } from '../shared/index.js'
import type { ErrorGroup, Phase } from '../result/index.js'

/** the longest sample message kept */
const MESSAGE_CHARS = 300
const SYSTEM_CODE = /^E[A-Z0-9]{2,}$/

interface ErrorLike { message?: unknown, code?: unknown, cause?: unknown, status?: unknown, request?: { method?: unknown, path?: unknown, status?: unknown } }

/** The system code (ECONNREFUSED ...) found along the cause chain, else the first undici code. */
export function causeCode (err: unknown): string | undefined {
  let undici: string | undefined
  let e = err as ErrorLike | undefined
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = e.code
    if (typeof code === 'string') {
      if (SYSTEM_CODE.test(code)) return code
      if (undici === undefined && code.startsWith('UND_ERR')) undici = code
    }
    e = e.cause as ErrorLike | undefined
  }
  return undici
}

/** The message with everything per-user masked: what stays is the same for every user with this cause. */
export function messageTemplate (message: string): string {
  return message
    .replace(/ctk_[A-Za-z0-9_]+/g, 'ctk_#')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '#')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '#')
    .replace(/\d+/g, '#')
}

/** One occurrence of an error as a group of one: redacted message, and the cause's fields. */
export function groupOf (phase: Phase, user: string, err: unknown): ErrorGroup {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike
  // redacted, then cut: a cut first could leave half a secret that no longer matches (a huge
  // message is bounded first, with room for a secret across the cut)
  const full = typeof e.message === 'string' ? e.message : String(err)
  const raw = redact(full.length > 4 * MESSAGE_CHARS ? full.slice(0, 4 * MESSAGE_CHARS) : full)
  const message = raw.length > MESSAGE_CHARS ? `${raw.slice(0, MESSAGE_CHARS)}…` : raw
  const code = typeof e.code === 'string' ? e.code : undefined
  const cause = causeCode(err)
  const req = e.request
  const status = typeof e.status === 'number' ? e.status : typeof req?.status === 'number' ? req.status : undefined
  const at = scenarioFrame(err)
  return {
    phase,
    message,
    ...(code !== undefined && { code }),
    ...(cause !== undefined && cause !== code && { cause }),
    ...(typeof req?.method === 'string' && { method: req.method }),
    ...(typeof req?.path === 'string' && { route: routeTemplate(req.path) }),
    ...(status !== undefined && { status }),
    ...(at !== undefined && { at }),
    user,
    count: 1
  }
}

/** The key errors are grouped by: two users hitting the same cause share it. */
export function groupKey (g: ErrorGroup): string {
  return [g.phase, g.code ?? '', g.cause ?? '', g.method ?? '', g.route ?? '', g.status ?? '', g.at ?? '', messageTemplate(g.message)].join('\u0000')
}
