// Nothing secret may reach the terminal or a file: credential-looking values are masked in every
// string crosstalk reports (evidence excerpts, error messages, URLs, headers, failure lines).
// Canaries (`ctk_...`) stay readable: they are the evidence, and they carry no secret. The exact
// secret values of a users file are masked first (secret-values.ts).
import { maskSecretValues } from './secret-values.js'

const MASK = '[redacted]'

/** query parameters whose values are credentials (matched on the name, case-insensitive) */
const SECRET_PARAM = /^(?:token|access_token|refresh_token|id_token|auth|auth_token|authorization|sid|session|session_id|sessionid|key|api_key|apikey|api-key|password|passwd|pass|pwd|secret|client_secret|code|signature|sig|jwt|ticket)$/i

/** a token rather than a word: long, or at least 16 characters with several digits and letters */
function opaque (s: string): boolean {
  if (s.length >= 32) return true
  if (s.length < 16) return false
  const digits = s.replace(/[^0-9]/g, '').length
  const letters = s.replace(/[^A-Za-z]/g, '').length
  return digits >= 3 && letters >= 3
}

type Replacer = (match: string, ...groups: string[]) => string

const RULES: Array<[RegExp, string | Replacer]> = [
  // userinfo of any URL: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, `$1${MASK}@`],
  // query values of credential-like names, inside URLs and paths
  [/([?&])([^=&\s#"']+)=([^&\s#"']*)/g, (m, sep, name, value) => SECRET_PARAM.test(name) && value !== '' ? `${sep}${name}=${MASK}` : m],
  // header lines as text: "Cookie: a=b; c=d"
  [/(^|[\s{,;])((?:proxy-)?authorization|set-cookie|cookie|x-api-key|x-auth-token|x-access-token|x-csrf-token|x-xsrf-token|x-session-id)\s*:\s*[^\r\n]*/gim, `$1$2: ${MASK}`],
  [/((?:bearer|basic)\s+)(?!\[redacted\])[^\s",;]+/gi, `$1${MASK}`],
  [/("?(?:token|password|passwd|secret|sid|session|cookie|authorization|api[-_]?key)"?\s*[:=]\s*"?)(?!\[redacted\])[^"\s,;}&]+/gi, `$1${MASK}`],
  // long opaque strings (session ids, keys) outside canaries; a path keeps its readable segments
  [/(?<![A-Za-z0-9_])(?!ctk_)[A-Za-z0-9+/=-]{32,}(?![A-Za-z0-9_])/g, m => m.startsWith('/') ? m.split('/').map(s => opaque(s) ? MASK : s).join('/') : MASK],
  // shorter opaque strings that mix letters and digits (hex or base64 tokens), but not words
  [/(?<![A-Za-z0-9_])(?!ctk_)[A-Za-z0-9+=-]{16,}(?![A-Za-z0-9_])/g, m => opaque(m) ? MASK : m]
]

export const EXCERPT_CHARS = 160

/** `text` with credentials masked: registered secret values, bearer/basic tokens, secret=value pairs, header lines, URL userinfo and secret query values, opaque tokens. */
export function redact (text: string): string {
  let out = maskSecretValues(text)
  for (const [re, r] of RULES) out = typeof r === 'string' ? out.replace(re, r) : out.replace(re, r)
  return out
}

/** A URL (or a path with a query) without credentials: userinfo and secret query values are masked. */
export function redactUrl (url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return redact(url)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = MASK
    parsed.password = ''
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, MASK)
  }
  return maskSecretValues(parsed.href.replace(/%5Bredacted%5D/g, MASK))
}

/** A bounded, redacted window of `text` around `index`. */
export function excerptAround (text: string, index: number, length = 0): string {
  const half = Math.floor((EXCERPT_CHARS - length) / 2)
  const start = Math.max(0, index - half)
  const end = Math.min(text.length, index + length + half)
  const body = text.slice(start, end).replace(/[\r\n\t]+/g, ' ')
  return `${start > 0 ? '…' : ''}${redact(body)}${end < text.length ? '…' : ''}`
}
