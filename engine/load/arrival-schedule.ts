// Open model: the intended start times of iterations for a piecewise-linear rate profile.
// Arrival n is due when the cumulative count ∫rate reaches n + phase; the phase spreads the
// cohorts that share a rate so their arrivals interleave instead of coinciding.
import type { ProfilePoint } from '../result/index.js'

export class ArrivalSchedule {
  readonly #p: ProfilePoint[]
  /** iterations per ms, for this cohort's share of the rate */
  readonly #scale: number
  #n: number
  #seg = 1
  /** cumulative arrivals at the start of the current segment */
  #base = 0

  /** `share` of the profile's rate (iterations per second), first arrival at cumulative `phase` in [0, 1). */
  constructor (profile: ProfilePoint[], share: number, phase: number) {
    this.#p = profile
    this.#scale = share / 1000
    this.#n = phase
  }

  /** ms (since the load start) of the next arrival, or null when the profile ends first. */
  next (): number | null {
    const p = this.#p
    const target = this.#n
    while (this.#seg < p.length) {
      const a = p[this.#seg - 1]!
      const b = p[this.#seg]!
      const d = b.atMs - a.atMs
      const ra = a.value * this.#scale
      const rb = b.value * this.#scale
      const area = (ra + rb) / 2 * d
      const need = target - this.#base
      if (d > 0 && need <= area) {
        this.#n += 1
        const at = a.atMs + solve(ra, rb, d, need)
        // the load phase is [start, end): an arrival due at its very end is not in it
        return at < p[p.length - 1]!.atMs ? at : null
      }
      this.#base += area
      this.#seg++
    }
    return null
  }
}

/** τ in [0, d] where ∫0^τ (ra + (rb - ra) s / d) ds = need. */
function solve (ra: number, rb: number, d: number, need: number): number {
  const k = (rb - ra) / (2 * d)
  if (Math.abs(k) < 1e-15) return ra === 0 ? 0 : need / ra
  const disc = Math.max(0, ra * ra + 4 * k * need)
  return Math.min(d, Math.max(0, (-ra + Math.sqrt(disc)) / (2 * k)))
}
