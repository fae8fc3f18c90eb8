// Finds canaries of other users in what a user receives. One native substring search
// (Buffer.indexOf / String.indexOf) for the run prefix per body, header or frame; parsing and
// HMAC verification only where the prefix occurs, and no HMAC at all for the user's own canaries.
import { canaryMac, parseCanaryAt, CANARY_PREFIX, type ParsedCanary } from './canary.js'

const VERIFIED_CACHE_LIMIT = 10_000

export interface ForeignCanary extends ParsedCanary {
  /** byte or character offset of the canary in the scanned text */
  index: number
}

export class CanaryScanner {
  readonly runId: string
  readonly #secret: string
  readonly #prefix: string
  readonly #prefixBytes: Buffer
  /** canary text -> valid; forged ones are remembered too, so repeats cost a Map lookup */
  readonly #verified = new Map<string, boolean>()
  /** canaries of the right shape whose HMAC did not verify (never violations) */
  forged = 0

  constructor (secret: string, runId: string) {
    this.runId = runId
    this.#secret = secret
    this.#prefix = `${CANARY_PREFIX}${runId}_`
    this.#prefixBytes = Buffer.from(this.#prefix, 'latin1')
  }

  /** Valid canaries in `data` owned by anyone but `self`. */
  scan (data: Buffer | string, self: number): ForeignCanary[] | undefined {
    let found: ForeignCanary[] | undefined
    if (typeof data === 'string') {
      for (let at = data.indexOf(this.#prefix); at !== -1; at = data.indexOf(this.#prefix, at + 1)) {
        found = this.#check(data, at, self, found)
      }
    } else {
      for (let at = data.indexOf(this.#prefixBytes); at !== -1; at = data.indexOf(this.#prefixBytes, at + 1)) {
        // canaries are ASCII: decode just the bytes that can hold one
        found = this.#check(data.toString('latin1', at, at + this.#prefix.length + 64), 0, self, found, at)
      }
    }
    return found
  }

  #check (text: string, at: number, self: number, found: ForeignCanary[] | undefined, offset = at): ForeignCanary[] | undefined {
    const c = parseCanaryAt(text, at, at + this.#prefix.length)
    if (c === undefined || c.owner === self) return found
    let valid = this.#verified.get(c.text)
    if (valid === undefined) {
      valid = canaryMac(this.#secret, this.runId, c.owner, c.label) === c.mac
      if (this.#verified.size >= VERIFIED_CACHE_LIMIT) this.#verified.clear()
      this.#verified.set(c.text, valid)
    }
    if (!valid) { this.forged++; return found }
    found ??= []
    found.push({ ...c, index: offset })
    return found
  }
}
