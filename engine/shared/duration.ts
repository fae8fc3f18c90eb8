// '500ms', '10s', '2m', '1h', '1m30s' or a number of milliseconds -> milliseconds.
import { InvalidDurationError } from '../errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
/** setTimeout's range: a longer delay fires at once (with a warning), so no deadline may exceed it */
export const MAX_DURATION_MS = 2 ** 31 - 1

export function parseDuration (value: string | number, what = 'duration'): number {
  return inTimerRange(parseAny(value, what), value, what)
}

function inTimerRange (ms: number, value: string | number, what: string): number {
  if (ms <= MAX_DURATION_MS) return ms
  const shown = typeof value === 'number' ? String(value) : `'${value}'`
  throw new InvalidDurationError(`invalid ${what} ${shown}: longer than the timer range (${MAX_DURATION_MS} ms, about 24 days)`)
}

function parseAny (value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value
    throw new InvalidDurationError(`invalid ${what} ${value}: must be a positive number of milliseconds`)
  }
  const s = value.trim()
  if (/^\d+(\.\d+)?$/.test(s) && Number(s) > 0) return Number(s) * 1000 // bare number: seconds
  let total = 0
  let end = 0
  PART.lastIndex = 0
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!
    end = PART.lastIndex
  }
  if (s === '' || end !== s.length || total <= 0) {
    throw new InvalidDurationError(`invalid ${what} '${value}' (use e.g. 500ms, 10s, 2m, 1m30s)`)
  }
  return total
}

