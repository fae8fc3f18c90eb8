// The metric key a threshold applies to: a known metric name with at most one tag,
// `http.req.duration`, `http.req.duration{name:get item}`, `ws.closes{code:1006}`.
import { ThresholdMetricError, ThresholdSyntaxError } from '../errors.js'
import { editDistance } from '../shared/index.js'
import { METRIC_DEFINITIONS, isMetricName, taggedKey, type CustomMetricDefinitions, type MetricKind, type MetricName } from '../metrics/index.js'

export interface ThresholdKey {
  /** normalized key, as the metrics aggregator stores it (`taggedKey`) */
  key: string
  /** the base metric name (a built-in one, or a custom one the scenario declared) */
  metric: string
  tag?: { name: string, value: string }
  kind: MetricKind
}

/**
 * Parses and checks a threshold key. `threshold` (e.g. `key: expression`) is quoted in errors;
 * it defaults to the key. Throws ThresholdSyntaxError for malformed tags and ThresholdMetricError
 * for unknown metrics (with a "did you mean" hint when one known name is close). `custom`: the
 * run's declared custom metrics (a scenario's `metrics`), known besides the built-in table.
 */
export function parseThresholdKey (key: string, threshold: string = key, custom?: CustomMetricDefinitions): ThresholdKey {
  const text = key.trim()
  const bad = (problem: string, at?: string): never => {
    throw new ThresholdSyntaxError(`bad threshold key '${text}'${at === undefined ? '' : ` at '${at}'`}: ${problem}`)
  }
  if (text === '') bad('empty metric name')
  const open = text.indexOf('{')
  const close = text.indexOf('}')
  let metric = text
  let tag: { name: string, value: string } | undefined
  if (open === -1) {
    if (close !== -1) bad("unbalanced '}'", text.slice(close))
  } else {
    if (close !== -1 && close < open) bad("unbalanced '}'", text.slice(close))
    metric = text.slice(0, open).trim()
    if (metric === '') bad("expected a metric name before '{'", text)
    const end = text.indexOf('}', open)
    if (end === -1) bad("unbalanced '{': expected '}'", text.slice(open))
    const inner = text.slice(open + 1, end)
    if (inner.includes('{')) bad("nested '{'", text.slice(open))
    if (end !== text.length - 1) {
      const rest = text.slice(end + 1)
      bad(rest.trimStart().startsWith('{') ? 'only one tag is supported' : "unexpected text after '}'", rest)
    }
    const colon = inner.indexOf(':')
    if (colon === -1) bad('expected a tag as {name:value}', text.slice(open))
    const name = inner.slice(0, colon).trim()
    const value = inner.slice(colon + 1).trim()
    if (name === '') bad('empty tag name: expected {name:value}', text.slice(open))
    if (value === '') bad('empty tag value: expected {name:value}', text.slice(open))
    // `{name:a,status:200}` would silently address a series that never exists
    if (/,\s*[A-Za-z_][\w.-]*\s*:/.test(value)) bad('only one tag is supported', text.slice(open))
    tag = { name, value }
  }
  const declared = custom !== undefined && Object.hasOwn(custom, metric) ? custom[metric] : undefined
  if (!isMetricName(metric) && declared === undefined) {
    const guess = closestMetric(metric)
    throw new ThresholdMetricError(`unknown metric '${metric}' in threshold '${threshold.trim()}'${guess === undefined ? '' : `; did you mean '${guess}'?`}${custom === undefined ? '' : `; a custom metric must be declared in the scenario's \`metrics\` (e.g. metrics: { '${metric}': { kind: 'trend', unit: 'ms' } })`}`)
  }
  const name = metric
  const kind = declared?.kind ?? METRIC_DEFINITIONS[name as MetricName].kind
  return tag === undefined
    ? { key: name, metric: name, kind }
    : { key: taggedKey(name, tag.name, tag.value), metric: name, tag, kind }
}

/** The one known metric name close to `name` (k6-style `http_req_duration` included), if any. */
export function closestMetric (name: string): MetricName | undefined {
  const candidates = [name, name.replace(/_/g, '.')]
  const limit = Math.max(2, Math.floor(name.length / 5))
  let best: MetricName | undefined
  let bestDistance = Infinity
  let tie = false
  for (const known of Object.keys(METRIC_DEFINITIONS) as MetricName[]) {
    const d = Math.min(...candidates.map(c => editDistance(c, known)))
    if (d < bestDistance) { best = known; bestDistance = d; tie = false } else if (d === bestDistance) tie = true
  }
  return bestDistance <= limit && !tie ? best : undefined
}
