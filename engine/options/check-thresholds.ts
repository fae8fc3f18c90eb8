// Thresholds compiled key by key, so one bad key does not hide the others, and a bad expression
// is reported even when its metric is unknown too (`x: p(95<50` has both problems).
// A key naming no built-in metric but a name a custom metric could have waits for the scenario:
// its declared `metrics` are only known once it is imported, after the options resolved.
import { ThresholdMetricError } from '../errors.js'
import { customNameProblem, isMetricName, type CustomMetricDefinitions } from '../metrics/index.js'
import { compileThresholds, parseThresholdExpression, parseThresholdKey, type Threshold, type ThresholdDefinitions } from '../thresholds/index.js'
import { isPlainObject } from './kinds.js'
import type { Problems } from './problems.js'

/**
 * `custom`: the scenario's declared metrics; 'later' (options time, the scenario not read yet):
 * keys that may name a custom metric have their expressions checked and are left out.
 */
export function checkThresholds (defs: ThresholdDefinitions | undefined, problems: Problems, custom: CustomMetricDefinitions | 'later' = 'later'): Threshold[] {
  if (defs === undefined) return []
  const declared = custom === 'later' ? undefined : custom
  if (!isPlainObject(defs)) return problems.catch(() => compileThresholds(defs, declared)) ?? []
  const out: Threshold[] = []
  for (const [key, value] of Object.entries(defs)) {
    const before = problems.size
    const waits = custom === 'later' && mayBeCustom(key)
    const parsed = waits ? undefined : problems.catch(() => parseThresholdKey(key, `${key.trim()}: ${(expressions(value)[0] ?? '').trim()}`, declared))
    for (const e of expressions(value)) problems.catch(() => parseThresholdExpression(e, parsed?.key ?? key.trim()))
    // the rest (item shapes, aggregations the metric lacks, delays) once the parts read
    if (problems.size === before && !waits) out.push(...(problems.catch(() => compileThresholds({ [key]: value }, declared)) ?? []))
  }
  return out
}

/** Whether some key of `defs` waits for the scenario's declared metrics. */
export function awaitsScenarioMetrics (defs: ThresholdDefinitions | undefined): boolean {
  return defs !== undefined && isPlainObject(defs) && Object.keys(defs).some(mayBeCustom)
}

/**
 * Options that fail anyway never read the scenario: keys waiting for its metrics are reported as
 * unknown now (with what the scenario would have had to declare), so every problem shows at once.
 */
export function reportWaitingKeys (defs: ThresholdDefinitions | undefined, problems: Problems): void {
  if (defs === undefined || !isPlainObject(defs)) return
  for (const [key, value] of Object.entries(defs)) {
    if (!mayBeCustom(key)) continue
    problems.catch(() => {
      try {
        parseThresholdKey(key, `${key.trim()}: ${(expressions(value)[0] ?? '').trim()}`)
      } catch (err) {
        if (!(err instanceof ThresholdMetricError)) throw err
        throw new ThresholdMetricError(`${err.message} (a custom metric is checked against the scenario's \`metrics\` once the other problems are fixed)`)
      }
    })
  }
}

/** `write.to.event{step:a}`: not a built-in name, but one a custom metric could have. */
function mayBeCustom (key: string): boolean {
  const open = key.indexOf('{')
  const name = (open === -1 ? key : key.slice(0, open)).trim()
  return !isMetricName(name) && customNameProblem(name) === undefined
}

function expressions (value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value]
  return items.flatMap(item => typeof item === 'string' ? [item] : isPlainObject(item) && typeof item.threshold === 'string' ? [item.threshold] : [])
}
