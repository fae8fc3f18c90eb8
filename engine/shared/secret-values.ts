// Exact secret values to mask, registered by this thread: the passwords, tokens and keys of a
// users file's rows (`--users-file`). No pattern can tell that `hunter2` is a password, so the
// values themselves are known and masked wherever they appear; redact() applies them first.
// Module state is per thread: the main thread registers every row's, each worker its cohorts'.

/** field names whose values are secret (case-insensitive, anywhere in the name: `userPassword`, `API_KEY`) */
const SECRET_FIELD = /pass|pwd|token|secret|key|auth|cookie|session|sid|otp|pin/i

/**
 * Shorter values are not masked: a `pin` of `7` or a `session` flag of `1` would mask every such
 * digit in every message (user names, status codes, counts), for no protection worth having.
 */
export const MIN_SECRET_CHARS = 4

const MASK = '[redacted]'

/**
 * secret values by their first MIN_SECRET_CHARS characters, longest first: a message is scanned
 * once, one lookup per position (whatever the number of rows), and where secrets overlap the
 * longest is masked whole
 */
const byPrefix = new Map<string, string[]>()

/** Whether a field of this name holds a secret (password, pass, pwd, token, secret, key, auth, cookie, session, sid, otp, pin). */
export function isSecretField (name: string): boolean {
  return SECRET_FIELD.test(name)
}

/** Masks `value` in every string this thread redacts from now on (too short a value is ignored). */
export function registerSecret (value: string): void {
  if (value.length < MIN_SECRET_CHARS) return
  const key = value.slice(0, MIN_SECRET_CHARS)
  const list = byPrefix.get(key)
  if (list === undefined) {
    byPrefix.set(key, [value])
    return
  }
  if (list.includes(value)) return
  const shorter = list.findIndex(v => v.length < value.length)
  list.splice(shorter === -1 ? list.length : shorter, 0, value)
}

/**
 * Registers the secret values of one row: every string or number under a field whose name looks
 * secret, nested objects included (`{ creds: { password } }`, `{ auth: { user, pass } }`).
 */
export function registerRowSecrets (row: unknown, secret = false): void {
  if (typeof row === 'string' || typeof row === 'number' || typeof row === 'bigint') {
    if (secret) registerSecret(String(row))
    return
  }
  if (typeof row !== 'object' || row === null) return
  for (const [name, value] of Object.entries(row)) registerRowSecrets(value, secret || (!Array.isArray(row) && isSecretField(name)))
}

/** `text` with every registered secret value replaced by the mask. */
export function maskSecretValues (text: string): string {
  if (byPrefix.size === 0 || text.length < MIN_SECRET_CHARS) return text
  let out = ''
  let from = 0
  for (let i = 0; i + MIN_SECRET_CHARS <= text.length;) {
    const hit = byPrefix.get(text.slice(i, i + MIN_SECRET_CHARS))?.find(v => text.startsWith(v, i))
    if (hit === undefined) {
      i++
      continue
    }
    out += text.slice(from, i) + MASK
    i += hit.length
    from = i
  }
  return from === 0 ? text : out + text.slice(from)
}
