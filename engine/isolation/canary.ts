// Canaries: `ctk_<run>_<owner>_<label>_<mac>`, where mac = HMAC-SHA256(run secret, run|owner|label)
// cut to 16 hex digits. Any worker holding the run secret verifies ownership without shared
// state, and a server cannot produce a valid canary of another user by accident or by echoing
// a made-up one.
import { createHmac } from 'node:crypto'

export const CANARY_PREFIX = 'ctk_'
const MAC_HEX = 16
const LABEL = /^[a-z0-9-]{1,32}$/

export function canaryMac (secret: string, runId: string, owner: number, label: string): string {
  return createHmac('sha256', secret).update(`${runId}|${owner}|${label}`).digest('hex').slice(0, MAC_HEX)
}

export function mintCanary (secret: string, runId: string, owner: number, label: string): string {
  if (!LABEL.test(label)) throw new TypeError(`canary label must match ${LABEL} (got '${label}')`)
  return `${CANARY_PREFIX}${runId}_${owner}_${label}_${canaryMac(secret, runId, owner, label)}`
}

export interface ParsedCanary {
  owner: number
  label: string
  mac: string
  /** the whole canary text */
  text: string
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isLabel = (c: number): boolean => (c >= 97 && c <= 122) || isDigit(c) || c === 45
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102)

/**
 * Parses the canary whose run prefix (`ctk_<run>_`) ends at `start` in `text`; undefined when
 * what follows does not have the canary's shape. Works on strings and on latin1-decoded bytes.
 */
export function parseCanaryAt (text: string, prefixStart: number, start: number): ParsedCanary | undefined {
  let i = start
  while (i < text.length && isDigit(text.charCodeAt(i))) i++
  if (i === start || i - start > 9 || text.charCodeAt(i) !== 95 /* _ */) return undefined
  const owner = Number(text.slice(start, i))
  const labelStart = ++i
  // labels may contain '-' but not '_': the next '_' ends the label
  while (i < text.length && isLabel(text.charCodeAt(i))) i++
  if (i === labelStart || i - labelStart > 32 || text.charCodeAt(i) !== 95) return undefined
  const label = text.slice(labelStart, i)
  const macStart = ++i
  while (i < text.length && i - macStart < MAC_HEX && isHex(text.charCodeAt(i))) i++
  if (i - macStart !== MAC_HEX) return undefined
  return { owner, label, mac: text.slice(macStart, i), text: text.slice(prefixStart, i) }
}
