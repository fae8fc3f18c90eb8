// A small seeded PRNG (mulberry32) so bootstrap intervals are reproducible given a seed.

export type Random = () => number

/** Uniform floats in [0, 1) from a 32-bit seed; the same seed gives the same sequence. */
export function mulberry32 (seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [0, n). */
export function randomIndex (random: Random, n: number): number {
  return Math.floor(random() * n)
}
