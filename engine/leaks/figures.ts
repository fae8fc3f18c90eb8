// The seed figures of a leak report: growth per 1K operations with its interval, how much of the
// heap each forced GC recovered, the heap's peak and final size, and how noisy the readings were
// (their spread around the fitted line: what quiet readings are meant to shrink).
import type { HeapSample, LeakFigures, TrendResult } from '../result/index.js'

function median (sorted: number[]): number {
  const n = sorted.length
  if (n === 0) return 0
  const mid = Math.floor(n / 2)
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Standard deviation of the readings around the line of slope `slope` (intercept: median residual), over `samples`. */
export function residualSd (samples: HeapSample[], slope: number): number {
  if (samples.length < 2) return 0
  const raw = samples.map(s => s.usedBytes - slope * s.ops)
  const intercept = median([...raw].sort((a, b) => a - b))
  const sq = raw.reduce((sum, r) => sum + (r - intercept) ** 2, 0)
  return Math.sqrt(sq / (samples.length - 1))
}

export function leakFigures (samples: HeapSample[], trend: Pick<TrendResult, 'bytesPerOp' | 'ciLow' | 'ciHigh' | 'window'>): LeakFigures {
  const recovered = samples.flatMap(s => s.beforeGcBytes !== undefined && s.beforeGcBytes > 0
    ? [Math.min(1, Math.max(0, (s.beforeGcBytes - s.usedBytes) / s.beforeGcBytes))]
    : [])
  recovered.sort((a, b) => a - b)
  return {
    growthPer1kOps: { bytes: trend.bytesPerOp * 1000, ciLow: trend.ciLow * 1000, ciHigh: trend.ciHigh * 1000 },
    gcEffectiveness: recovered.length === 0
      ? null
      : { median: median(recovered), min: recovered[0]!, max: recovered.at(-1)!, readings: recovered.length },
    peakBytes: samples.reduce((m, s) => Math.max(m, s.usedBytes), 0),
    finalBytes: samples.at(-1)?.usedBytes ?? 0,
    noiseBytes: Math.round(residualSd(samples.slice(trend.window.from, trend.window.to), trend.bytesPerOp))
  }
}
