// The one-pass trend summary gives exactly what hdr-histogram-js's own getters give, on the
// shapes the runs produce: one value, narrow and wide spreads, long tails, and histograms decoded
// from a worker's encoding (how the main thread receives them).
import test from 'ava'
import { createHistogram, decodeHistogram, encodeHistogram, summarizeHistogram, type Histogram } from '../engine/metrics/histogram.js'

/** The summary as hdr's getters compute it (the former implementation). */
function reference (h: Histogram): Record<string, number> {
  const ms = (us: number): number => Math.round(us / 1000 * 1000) / 1000
  return {
    count: h.totalCount,
    avg: ms(h.mean),
    min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    med: ms(h.getValueAtPercentile(50)),
    max: ms(h.maxValue),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99))
  }
}

// a fixed pseudo-random sequence (mulberry32), so a failure reproduces
function random (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SHAPES: Record<string, (r: () => number) => number> = {
  'one value': () => 1234,
  'zeros and ones': r => r() < 0.5 ? 0 : 1,
  'narrow (1-3 ms)': r => 1000 + Math.floor(r() * 2000),
  'wide (1 µs - 60 s)': r => Math.floor(Math.exp(r() * Math.log(60e6))),
  'long tail': r => r() < 0.99 ? Math.floor(r() * 5000) : Math.floor(r() * 3e6)
}

for (const [shape, draw] of Object.entries(SHAPES)) {
  test(`summary of ${shape} equals hdr's getters, recorded and decoded`, t => {
    for (const [seed, n] of [[1, 1], [2, 7], [3, 100], [4, 10_000], [5, 123_457]] as const) {
      const r = random(seed)
      const h = createHistogram()
      for (let i = 0; i < n; i++) h.recordValue(draw(r))
      const { type, ...mine } = summarizeHistogram(h)
      t.is(type, 'trend')
      t.deepEqual(mine, reference(h), `${n} values, seed ${seed}`)
      const decoded = decodeHistogram(encodeHistogram(h))
      // decoding keeps the counts but not the exact min and max (hdr's own behaviour): compare with its getters on it
      t.deepEqual(summarizeHistogram(decoded), { type: 'trend', ...reference(decoded) }, `decoded, ${n} values`)
    }
  })
}

test('an empty histogram summarizes to zeros', t => {
  t.deepEqual(summarizeHistogram(createHistogram()), { type: 'trend', count: 0, avg: 0, min: 0, med: 0, max: 0, p90: 0, p95: 0, p99: 0 })
})
