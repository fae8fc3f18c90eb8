// A load profile: users (closed model) or iterations per second (open model) over the load
// phase, piecewise linear between points, as k6's stages describe it.
import type { ProfilePoint } from '../result/index.js'
import { parseDuration } from '../shared/index.js'


export interface Stage {
  durationMs: number
  target: number
}

/** `'10s:100,20s:1000'` (or the config form) -> stages; problems are collected, not thrown. */
export function parseStages (input: string | Array<{ duration: string | number, target: number }>, problems: string[]): Stage[] {
  const raw = typeof input === 'string'
    ? input.split(',').map(s => s.trim()).filter(Boolean).map((part) => {
      const i = part.lastIndexOf(':')
      return i < 0 ? { text: part, duration: part, target: Number.NaN } : { text: part, duration: part.slice(0, i).trim(), target: part.slice(i + 1).trim() === '' ? Number.NaN : Number(part.slice(i + 1)) }
    })
    : Array.isArray(input) ? input.map(s => ({ text: JSON.stringify(s), duration: s?.duration, target: s?.target })) : []
  if (raw.length === 0) problems.push(`stages must list at least one 'duration:target' (got ${JSON.stringify(input)})`)
  const stages: Stage[] = []
  for (const r of raw) {
    let durationMs = 0
    try {
      durationMs = parseDuration(r.duration, 'stage duration')
    } catch (err) {
      problems.push(`stage '${r.text}': ${(err as Error).message}`)
      continue
    }
    if (typeof r.target !== 'number' || !Number.isFinite(r.target) || r.target < 0) {
      problems.push(`stage '${r.text}': the target must be a number >= 0 (write 'duration:target', e.g. 10s:100)`)
      continue
    }
    stages.push({ durationMs, target: r.target })
  }
  return stages
}

/** Stages from a starting value -> profile points (the first at 0 ms). */
export function profileFromStages (start: number, stages: Stage[]): ProfilePoint[] {
  const points: ProfilePoint[] = [{ atMs: 0, value: start }]
  let at = 0
  for (const s of stages) {
    at += s.durationMs
    points.push({ atMs: at, value: s.target })
  }
  return points
}

export function profileEnd (p: ProfilePoint[]): number {
  return p[p.length - 1]!.atMs
}

export function profilePeak (p: ProfilePoint[]): number {
  return p.reduce((m, x) => Math.max(m, x.value), 0)
}

/** The profile's value at `t` ms (held at the last value after the end). */
export function valueAt (p: ProfilePoint[], t: number): number {
  if (t <= p[0]!.atMs) return p[0]!.value
  for (let i = 1; i < p.length; i++) {
    const a = p[i - 1]!
    const b = p[i]!
    if (t <= b.atMs) return b.atMs === a.atMs ? b.value : a.value + (b.value - a.value) * (t - a.atMs) / (b.atMs - a.atMs)
  }
  return p[p.length - 1]!.value
}

/**
 * Closed model: when does the profile first reach `level` users, and when does it last drop
 * below it (within the load phase)? null when it never does. User i is active while
 * floor(value) > i, so it needs level i + 1.
 */
export function levelWindow (p: ProfilePoint[], level: number): { fromMs: number, toMs: number } | null {
  let from: number | null = null
  let to = 0
  for (let i = 1; i < p.length; i++) {
    const a = p[i - 1]!
    const b = p[i]!
    if (a.value < level && b.value < level) continue
    // the part of [a, b] where the line is at or above the level
    const cross = b.value === a.value ? a.atMs : a.atMs + (level - a.value) / (b.value - a.value) * (b.atMs - a.atMs)
    const start = a.value >= level ? a.atMs : cross
    const end = b.value >= level ? b.atMs : cross
    if (from === null) from = start
    to = Math.max(to, end)
  }
  return from === null ? null : { fromMs: from, toMs: to }
}
