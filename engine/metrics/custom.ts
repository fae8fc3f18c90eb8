// Custom metrics: the names and units a scenario may record under, beside the built-in table.
// Trends are HDR histograms of whole numbers at 3 significant digits. A custom trend in ms (the
// default unit) is stored as the built-in ones, in whole microseconds; one in any other unit
// (bytes, items) in whole units of its own: exact up to 2047, within 0.1% above (as durations are),
// a fraction rounded to the nearest whole. A trend of fractions wants a finer unit.
import { METRIC_DEFINITIONS, METRIC_KIND_LIST, type MetricKind } from './names.js'

/** What a scenario declares (or the first `user.metrics.*` call implies) for one custom metric. */
export interface CustomMetricDefinition {
  kind: MetricKind
  /** free text (`ms`, `bytes`, `items`); a trend without one is in ms, a rate is a share */
  unit?: string
  description?: string
}

/** Custom metric definitions by name. */
export type CustomMetricDefinitions = Readonly<Record<string, CustomMetricDefinition>>

/** Built-in families a custom name may not start with, so it never reads as one of theirs. */
export const RESERVED_METRIC_PREFIXES = ['http.', 'ws.', 'io.', 'iteration', 'isolation.', 'target.', 'group.'] as const

const NAME = /^[a-z][a-z0-9._-]{0,127}$/
const UNIT = /^[A-Za-z%/][A-Za-z0-9%/ _.-]{0,23}$/

/** Why `name` cannot be a custom metric, or undefined when it can. */
export function customNameProblem (name: string): string | undefined {
  if (!NAME.test(name)) return `metric name '${name}' must be lowercase letters, digits, dots, dashes and underscores, starting with a letter (at most 128)`
  if (Object.hasOwn(METRIC_DEFINITIONS, name)) return `metric name '${name}' is a built-in metric`
  const prefix = RESERVED_METRIC_PREFIXES.find(p => name.startsWith(p))
  if (prefix !== undefined) return `metric name '${name}' starts with '${prefix}', reserved for built-in metrics`
  return undefined
}

/** Why `unit` cannot be a unit, or undefined when it can (undefined itself is fine). */
export function customUnitProblem (unit: unknown): string | undefined {
  if (unit === undefined) return undefined
  return typeof unit === 'string' && UNIT.test(unit) ? undefined : `unit ${JSON.stringify(unit)} must be a short word such as 'ms', 'bytes' or 'items' (letters, digits, '%', '/', at most 24)`
}

/**
 * Checks one declaration of a scenario's `metrics` (runtime shapes: it comes from user code).
 * Returns the definition, or the problems found.
 */
export function checkCustomDefinition (name: string, raw: unknown): CustomMetricDefinition | string[] {
  const problems: string[] = []
  const nameProblem = customNameProblem(name)
  if (nameProblem !== undefined) problems.push(nameProblem)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [...problems, `metric '${name}' must be { kind, unit?, description? }`]
  const d = raw as Record<string, unknown>
  if (!METRIC_KIND_LIST.includes(d.kind as MetricKind)) problems.push(`metric '${name}': kind ${JSON.stringify(d.kind)} is not one of ${METRIC_KIND_LIST.join(', ')}`)
  const unitProblem = customUnitProblem(d.unit)
  if (unitProblem !== undefined) problems.push(`metric '${name}': ${unitProblem}`)
  if (d.description !== undefined && typeof d.description !== 'string') problems.push(`metric '${name}': description must be a string`)
  const unknown = Object.keys(d).filter(k => !['kind', 'unit', 'description'].includes(k))
  if (unknown.length > 0) problems.push(`metric '${name}': unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map(k => `'${k}'`).join(', ')} (allowed: kind, unit, description)`)
  if (problems.length > 0) return problems
  return {
    kind: d.kind as MetricKind,
    ...(d.unit !== undefined && { unit: d.unit as string }),
    ...(d.description !== undefined && { description: d.description as string })
  }
}


/** Recorded values per unit of a custom trend: 1000 in ms (microseconds, as built-ins), 1 in any other unit (whole units). */
export function trendPerUnit (d: CustomMetricDefinition): 1 | 1000 {
  return d.kind !== 'trend' || d.unit === undefined || d.unit === 'ms' ? 1000 : 1
}
