// The hot-path recorder (integer bucket arithmetic) fills a histogram exactly as hdr-histogram-js's
// own recordValue does: every bucket edge, the ends of the 32-bit range, values past it (hdr's
// resize path), and a pseudo-random spread; and rejects what hdr rejects.
import test from 'ava'
import { createHistogram, encodeHistogram, forEachRecorded, recordValueFast, type Histogram } from '../engine/metrics/histogram.js'

function contents (h: Histogram): unknown {
  const values: Array<[number, number]> = []
  forEachRecorded(h, (v, c) => values.push([v, c]))
  return { values, total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue, encoded: encodeHistogram(h) }
}

function recordBoth (values: number[]): [unknown, unknown] {
  const fast = createHistogram()
  const hdr = createHistogram()
  for (const v of values) {
    recordValueFast(fast, v)
    hdr.recordValue(v)
  }
  return [contents(fast), contents(hdr)]
}

test('bucket edges and the ends of the range record as hdr records them', t => {
  const values = [0, 1, 2, 3, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]
  for (let k = 0; k < 32; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1, Math.floor(2 ** k * 1.5))
  const [fast, hdr] = recordBoth(values)
  t.deepEqual(fast, hdr)
})

test('values past 2^32 take hdr\'s resizing path', t => {
  const [fast, hdr] = recordBoth([5, 2 ** 32, 2 ** 33 + 7, 2 ** 40, 17])
  t.deepEqual(fast, hdr)
})

test('a pseudo-random spread from 0 to 2^32 records as hdr records it', t => {
  let a = 7
  const values: number[] = []
  for (let i = 0; i < 50_000; i++) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0
    values.push(i % 2 === 0 ? a : a >>> (a & 31))
  }
  const [fast, hdr] = recordBoth(values)
  t.deepEqual(fast, hdr)
})

test('a negative value throws as hdr does', t => {
  t.throws(() => recordValueFast(createHistogram(), -1), { message: /negative/ })
})
