// Thresholds compiled key by key, so one bad key does not hide the others, and a bad expression
// is reported even when its metric is unknown too (`x: p(95<50` has both problems).
import { compileThresholds, parseThresholdExpression, parseThresholdKey, type Threshold, type ThresholdDefinitions } from '../thresholds/index.js'
import { isPlainObject } from './kinds.js'
import type { Problems } from './problems.js'

export function checkThresholds (defs: ThresholdDefinitions | undefined, problems: Problems): Threshold[] {
  if (defs === undefined) return []
  if (!isPlainObject(defs)) return problems.catch(() => compileThresholds(defs)) ?? []
  const out: Threshold[] = []
  for (const [key, value] of Object.entries(defs)) {
    const before = problems.size
    const parsed = problems.catch(() => parseThresholdKey(key, `${key.trim()}: ${(expressions(value)[0] ?? '').trim()}`))
    for (const e of expressions(value)) problems.catch(() => parseThresholdExpression(e, parsed?.key ?? key.trim()))
    // the rest (item shapes, aggregations the metric lacks, delays) once the parts read
    if (problems.size === before) out.push(...(problems.catch(() => compileThresholds({ [key]: value })) ?? []))
  }
  return out
}

function expressions (value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value]
  return items.flatMap(item => typeof item === 'string' ? [item] : isPlainObject(item) && typeof item.threshold === 'string' ? [item.threshold] : [])
}
