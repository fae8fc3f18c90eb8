// Number formatting shared by the verdict reasons and the renderers.
import type { ComparedUnit } from './compared-metrics.js'

function sig (v: number, digits = 3): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 10 ** digits) return String(Math.round(v))
  return String(Number(v.toPrecision(digits)))
}

function magnitude (unit: ComparedUnit, v: number): string {
  const a = Math.abs(v)
  switch (unit) {
    case 'ms':
      if (a >= 1000) return `${(a / 1000).toFixed(2)}s`
      if (a >= 10) return `${a.toFixed(1)}ms`
      return `${a.toFixed(2)}ms`
    case 'req/s':
      return `${a.toLocaleString('en-US', { maximumFractionDigits: 1 })} req/s`
    case 'share':
      return `${(a * 100).toFixed(2)}%`
    case 'bytes/op':
      return `${sig(a)} B/op`
  }
}

/** A value of the metric: '12.3ms', '1,520 req/s', '0.12%', '215 B/op'; 'n/a' when missing. */
export function formatValue (unit: ComparedUnit, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a'
  return `${v < 0 ? '-' : ''}${magnitude(unit, v)}`
}

function signOf (v: number): string {
  return v > 0 ? '+' : v < 0 ? '-' : ''
}

/** A change of the metric with its sign: '+1.20ms', '-35 req/s', '+0.05pp' (error rates in percentage points). */
export function formatChange (unit: ComparedUnit, v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'n/a'
  if (!Number.isFinite(v)) return `${signOf(v)}inf`
  if (unit === 'share') return `${signOf(v)}${(Math.abs(v) * 100).toFixed(2)}pp`
  return `${signOf(v)}${magnitude(unit, v)}`
}

/** A relative change: '+6.5%', '-12%', '+inf%'. */
export function formatRelative (v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'n/a'
  if (!Number.isFinite(v)) return `${signOf(v)}inf%`
  const pct = Math.abs(v) * 100
  return `${signOf(v)}${pct >= 100 ? pct.toFixed(0) : pct >= 10 ? pct.toFixed(1) : pct.toFixed(2)}%`
}

export function formatInterval (ci: readonly [number, number] | null, one: (v: number) => string): string {
  return ci === null ? 'n/a' : `${one(ci[0])} .. ${one(ci[1])}`
}

/** 0.95 -> '95%' */
export function formatConfidence (c: number): string {
  return `${Number((c * 100).toPrecision(4))}%`
}
