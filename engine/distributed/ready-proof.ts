// What a shard sends to show it holds the run secret, without sending the secret: an HMAC of
// exactly what it claims (run id, its index and the shard count), so a proof for one shard or run
// is no proof for another. The coordinator computes the same and compares in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header that carries the proof. */
export const PROOF_HEADER = 'x-crosstalk-proof'

/** hex HMAC-SHA256(secret, "ready|<runId>|<index>/<count>") */
export function readyProof (secret: string, runId: string, index: number, count: number): string {
  return createHmac('sha256', secret).update(`ready|${runId}|${index}/${count}`).digest('hex')
}

/** Whether `proof` (the header's value, any case) is the proof for this claim. */
export function proofMatches (proof: string | undefined, secret: string, runId: string, index: number, count: number): boolean {
  if (proof === undefined || !/^[0-9a-f]{64}$/i.test(proof)) return false
  const expected = Buffer.from(readyProof(secret, runId, index, count), 'hex')
  return timingSafeEqual(expected, Buffer.from(proof, 'hex'))
}
