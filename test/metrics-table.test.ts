// The metric table: well formed, and README's Metrics section documents exactly what it defines.
import test from 'ava'
import { readFileSync } from 'node:fs'
import { InternalError } from '../engine/errors.js'
import { MetricsAggregator, MetricsRecorder } from '../engine/metrics/index.js'
import { METRIC_DEFINITIONS, METRIC_KIND_LIST, METRIC_TABLE, METRICS, metricDefinition, type MetricDefinition } from '../engine/metrics/names.js'

const README = new URL('../../README.md', import.meta.url)
const definitions: MetricDefinition[] = Object.values(METRIC_TABLE)

interface ReadmeRow { names: string[], kind: string, unit: string, description: string }

/** The rows of the table under `## Metrics`; a row may list several metrics in its first cell. */
function readmeMetricRows (): { header: string[], rows: ReadmeRow[] } {
  const text = readFileSync(README, 'utf8')
  const start = text.indexOf('\n## Metrics\n')
  if (start === -1) throw new Error('README.md has no "## Metrics" section')
  const end = text.indexOf('\n## ', start + 1)
  const lines = text.slice(start, end === -1 ? undefined : end).split('\n').filter(l => l.startsWith('|'))
  const cells = (l: string): string[] => l.split('|').slice(1, -1).map(c => c.trim())
  const [header = '', , ...body] = lines
  const rows = body.map(l => {
    const [metric = '', kind = '', unit = '', description = ''] = cells(l)
    return { names: [...metric.matchAll(/`([^`]+)`/g)].map(m => m[1]!), kind, unit, description }
  })
  return { header: cells(header), rows }
}

test('every metric name is unique', t => {
  const names = definitions.map(d => d.name)
  t.is(new Set(names).size, names.length)
  t.is(Object.keys(METRIC_DEFINITIONS).length, names.length)
})

test('every metric has one of the four kinds, a unit and a description', t => {
  for (const d of definitions) {
    t.true((METRIC_KIND_LIST as readonly string[]).includes(d.kind), `${d.name}: kind ${d.kind}`)
    t.true(d.unit.trim() !== '', `${d.name}: unit`)
    t.true(d.description.trim() !== '', `${d.name}: description`)
    // the README table would split a description at '|'
    t.false(d.description.includes('|'), `${d.name}: description has '|'`)
  }
})

test('METRICS keeps its keys and names, and the lookups agree with the table', t => {
  t.is(METRICS.httpReqs, 'http.reqs')
  t.is(METRICS.targetHeapSlope, 'target.heap.slope')
  t.deepEqual(Object.keys(METRICS), Object.keys(METRIC_TABLE))
  for (const [key, d] of Object.entries(METRIC_TABLE)) {
    t.is(METRICS[key as keyof typeof METRICS], d.name)
    t.is(METRIC_DEFINITIONS[d.name], d)
  }
  t.is(metricDefinition('http.req.duration{name:get item}')?.unit, 'ms')
  t.is(metricDefinition('http_req_duration'), undefined)
})

test("README's Metrics section lists every metric of the table, and only those, with the same kind, unit and description", t => {
  const { header, rows } = readmeMetricRows()
  t.deepEqual(header, ['metric', 'kind', 'unit', 'description'])
  const documented = rows.flatMap(r => r.names)
  t.is(new Set(documented).size, documented.length, 'a metric is documented twice')
  t.deepEqual([...documented].sort(), definitions.map(d => d.name).sort())
  for (const row of rows) {
    for (const name of row.names) {
      const d = metricDefinition(name)
      if (d === undefined) continue // reported by the deepEqual above
      t.is(row.kind, d.kind, `${name}: kind`)
      t.is(row.unit, d.unit, `${name}: unit`)
      // a row grouping several metrics describes them together
      if (row.names.length === 1) t.is(row.description, d.description, `${name}: description`)
    }
  }
})

test('the aggregator holds each metric of the table to its kind: a counter sent as a trend (or a gauge as a counter) is an internal error naming both', t => {
  const agg = new MetricsAggregator(performance.now())
  const recorder = new MetricsRecorder()
  recorder.count(METRICS.httpReqs)
  recorder.trend(METRICS.httpReqDuration, 12)
  recorder.rate(METRICS.checks, true)
  recorder.gauge(METRICS.usersActive, 3)
  recorder.count('my.own.metric') // not in the table: any kind
  t.notThrows(() => agg.add(recorder.flush(), 'w1', performance.now()), 'every key in its own kind')

  const wrong = new MetricsRecorder()
  wrong.trend(`${METRICS.httpReqs}{name:get item}`, 5)
  const err = t.throws(() => agg.add(wrong.flush(), 'w1', performance.now()), { instanceOf: InternalError })
  t.is(err?.code, 'CT_ERR_INTERNAL')
  t.is(err?.message, "metric key 'http.reqs{name:get item}' is a counter in the metric table, but arrived as a trend")

  // a key already seen in its own kind is still checked when it first comes in another
  const again = new MetricsRecorder()
  again.count(METRICS.usersActive)
  t.throws(() => agg.add(again.flush(), 'w1', performance.now()), { message: "metric key 'users.active' is a gauge in the metric table, but arrived as a counter" })
  t.throws(() => agg.setGauge(METRICS.checks, 'main', 1, performance.now()), { message: "metric key 'checks' is a rate in the metric table, but arrived as a gauge" })
  t.is(agg.counter(METRICS.httpReqs), 1, 'the good delta was merged')
})
