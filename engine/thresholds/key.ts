// The metric key a threshold applies to, as k6 writes it: a known metric name with any number of
// tags, `http.req.duration`, `http.req.duration{name:get item}`, `http.req.duration{scenario:chat,
// name:send}`; values may hold ':' and braces (`{name:http://${}.com}`). Tags are sorted (metricKey).
import { ThresholdMetricError, ThresholdSyntaxError } from '../errors.js'
import { editDistance } from '../shared/index.js'
import { METRIC_DEFINITIONS, isMetricName, metricKey, type CustomMetricDefinitions, type MetricKind, type MetricName } from '../metrics/index.js'

export interface ThresholdKey {
  /** normalized key, as the metrics aggregator stores it (`metricKey`: tags sorted by name) */
  key: string
  /** the base metric name (a built-in one, or a custom one the scenario declared) */
  metric: string
  /** the tag of a key with exactly one (several: read them with splitKey(key)) */
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
  // as k6: the tags run from the first '{' to the last '}', so values may hold braces and colons
  const open = text.indexOf('{')
  const close = text.lastIndexOf('}')
  let metric = text
  let tags: Record<string, string> | undefined
  if (open === -1) {
    if (close !== -1) bad("unbalanced '}'", text.slice(text.indexOf('}')))
  } else {
    if (close === -1) bad("unbalanced '{': expected '}'", text.slice(open))
    if (text.indexOf('}') < open) bad("unbalanced '}'", text.slice(text.indexOf('}')))
    metric = text.slice(0, open).trim()
    if (metric === '') bad("expected a metric name before '{'", text)
    if (close !== text.length - 1) bad("unexpected text after '}'", text.slice(close + 1))
    tags = parseTags(text.slice(open + 1, close), text.slice(open), bad)
  }
  const declared = custom !== undefined && Object.hasOwn(custom, metric) ? custom[metric] : undefined
  if (!isMetricName(metric) && declared === undefined) {
    const guess = closestMetric(metric)
    throw new ThresholdMetricError(`unknown metric '${metric}' in threshold '${threshold.trim()}'${guess === undefined ? '' : `; did you mean '${guess}'?`}${custom === undefined ? '' : `; a custom metric must be declared in the scenario's \`metrics\` (e.g. metrics: { '${metric}': { kind: 'trend', unit: 'ms' } })`}`)
  }
  const name = metric
  const kind = declared?.kind ?? METRIC_DEFINITIONS[name as MetricName].kind
  if (tags === undefined) return { key: name, metric: name, kind }
  const entries = Object.entries(tags)
  const only = entries.length === 1 ? entries[0]! : undefined
  return only === undefined
    ? { key: metricKey(name, tags), metric: name, kind }
    : { key: metricKey(name, tags), metric: name, tag: { name: only[0], value: only[1] }, kind }
}

// A tag starts at a ',' followed by `<name>:`; any other ',' belongs to the value (k6 splits at
// every ',', so a value with a comma is one more thing crosstalk accepts).
const TAG_START = /,(?=\s*[A-Za-z_][\w.-]*\s*:)/

/** `name:get item, scenario:chat` -> { name: 'get item', scenario: 'chat' }, each part trimmed. */
function parseTags (inner: string, at: string, bad: (problem: string, at?: string) => never): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const part of inner.split(TAG_START)) {
    const colon = part.indexOf(':')
    if (colon === -1) bad('expected a tag as {name:value}', at)
    const name = part.slice(0, colon).trim()
    const value = part.slice(colon + 1).trim()
    if (name === '') bad('empty tag name: expected {name:value}', at)
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) bad(`tag name '${name}' must start with a letter or '_' and hold only letters, digits, '_', '.', '-'`, at)
    if (value === '') bad(`empty tag value for '${name}': expected {name:value}`, at)
    if (Object.hasOwn(tags, name)) bad(`tag '${name}' given twice`, at)
    tags[name] = value
  }
  return tags
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
