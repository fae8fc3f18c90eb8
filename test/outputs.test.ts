// Outputs while running: `--out-ndjson -` streams one line per metric key per closed second whose
// sums are report.json's totals exactly, and `--otlp` pushes the same totals to an OTLP/HTTP
// receiver written here (JSON bodies on POST /v1/metrics). A collector that is down costs a
// warning, never the run; a collector off this machine is refused before any load.
import test from 'ava'
import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { MetricsAggregator } from '../engine/metrics/index.js'
import type { MetricSummary, RunResult, SeriesPoint } from '../engine/result/index.js'
import { cli, tempDir } from './support.js'

interface Point { type: 'point', t: number, metric: string, tags: Record<string, string>, kind: string, value?: number, passes?: number, fails?: number, count?: number }
type Line = Point | { type: 'run', runId: string } | { type: 'end', runId: string, status: string }

const keyOf = (metric: string, tags: Record<string, string>): string => {
  const tag = Object.entries(tags)[0]
  return tag === undefined ? metric : `${metric}{${tag[0]}:${tag[1]}}`
}

/** Per key: the counter's sum, the rate's passes/fails, the trend's count, the gauge's last value. */
function totalsFromPoints (points: Point[]): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const p of points) {
    const k = keyOf(p.metric, p.tags)
    const cur = out[k] ?? [0, 0]
    if (p.kind === 'counter') out[k] = [cur[0]! + p.value!]
    else if (p.kind === 'rate') out[k] = [cur[0]! + p.passes!, cur[1]! + p.fails!]
    else if (p.kind === 'trend') out[k] = [cur[0]! + p.count!]
    else out[k] = [p.value!]
  }
  return out
}

function totalsFromReport (metrics: Record<string, MetricSummary>): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const [k, m] of Object.entries(metrics)) {
    out[k] = m.type === 'counter' ? [m.count] : m.type === 'rate' ? [m.passes, m.fails] : m.type === 'trend' ? [m.count] : [m.value]
  }
  return out
}

interface OtlpAttr { key: string, value: { stringValue?: string } }
interface OtlpPoint { attributes?: OtlpAttr[], asDouble?: number | string, asInt?: number | string, count?: number | string, startTimeUnixNano?: string }
interface OtlpMetric { name: string, sum?: { dataPoints: OtlpPoint[], isMonotonic?: boolean }, histogram?: { dataPoints: OtlpPoint[] }, gauge?: { dataPoints: OtlpPoint[] } }
interface OtlpBody { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: OtlpMetric[] }> }> }

/** An OTLP/HTTP receiver on 127.0.0.1: keeps every JSON body POSTed to /v1/metrics. */
async function receiver (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ url: string, bodies: OtlpBody[] }> {
  const bodies: OtlpBody[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/metrics' && req.headers['content-type'] === 'application/json') {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpBody)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else {
        res.writeHead(404).end()
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise(resolve => server.close(resolve)) })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies }
}

/**
 * Totals as the receiver holds them: the exports are cumulative, so each series' newest data
 * point is its total (key: metric + tag; a rate's `outcome` attribute is its passes or fails).
 */
function totalsFromOtlp (bodies: OtlpBody[], runId: string): { totals: Record<string, number[]>, foreignRunIds: number } {
  const latest = new Map<string, number>()
  let foreignRunIds = 0
  for (const body of bodies) {
    for (const m of body.resourceMetrics.flatMap(r => r.scopeMetrics).flatMap(s => s.metrics)) {
      for (const [kind, points] of [['sum', m.sum?.dataPoints], ['histogram', m.histogram?.dataPoints], ['gauge', m.gauge?.dataPoints]] as const) {
        for (const p of points ?? []) {
          const attrs = Object.fromEntries((p.attributes ?? []).map(a => [a.key, a.value.stringValue ?? '']))
          if (attrs['crosstalk.run.id'] !== runId) foreignRunIds++
          const { outcome, ...tags } = attrs
          delete tags['crosstalk.run.id']
          const value = kind === 'histogram' ? Number(p.count) : Number(p.asDouble ?? p.asInt)
          latest.set(JSON.stringify([keyOf(m.name, tags), outcome ?? '']), value)
        }
      }
    }
  }
  const totals: Record<string, number[]> = {}
  for (const [id, value] of latest) {
    const [key, outcome] = JSON.parse(id) as [string, string]
    const cur = totals[key] ?? []
    if (outcome === 'passes') cur[0] = value
    else if (outcome === 'fails') cur[1] = value
    else cur[0] = value
    totals[key] = cur
  }
  return { totals, foreignRunIds }
}

test('--out-ndjson - and --otlp: the per-second points add up to report.json\'s totals exactly, on stdout and at the receiver', async t => {
  const dir = tempDir(t)
  const otlp = await receiver(t)
  const out = join(dir, 'out')
  const r = await cli(['run', '--users', '10', '--duration', '3s', '--workers', '2', '--out-ndjson', '-', '--otlp', otlp.url, '--out', out], { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.log(`run with a collector: ${r.ms} ms, ${r.stdout.split('\n').length} NDJSON lines`)
  t.regex(r.stderr, /crosstalk · scenario default/, 'the human summary went to stderr')
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.deepEqual(report.hints, [], 'no output warned')

  const lines = r.stdout.trimEnd().split('\n').map(l => JSON.parse(l) as Line)
  t.deepEqual(lines[0], { type: 'run', schemaVersion: 1, runId: report.runId, startedAt: report.startedAt, scenario: 'default', target: report.target.url } as unknown as Line)
  t.deepEqual(lines.at(-1), { type: 'end', runId: report.runId, status: 'passed' })
  const points = lines.filter((l): l is Point => l.type === 'point')
  // one line per key per second, in the order of the seconds, as report.json's timeSeries
  // (a second in which nothing was recorded - setup on a very busy box - has no line)
  const recorded = (s: SeriesPoint) => Object.keys(s.counters).length + Object.keys(s.rates).length + Object.keys(s.trends).length + Object.keys(s.gauges).length > 0
  t.deepEqual([...new Set(points.map(p => p.t))], report.timeSeries.filter(recorded).map((s: SeriesPoint) => s.t))
  const expected = totalsFromReport(report.metrics)
  t.true(expected['http.reqs']![0]! > 0 && expected.iterations![0]! > 0 && expected.checks![0]! > 0 && expected['http.req.duration']![0]! > 0)
  t.deepEqual(totalsFromPoints(points), expected)

  // pushed as the run went (one export a second), the last export holding the totals
  t.true(otlp.bodies.length >= 3, `${otlp.bodies.length} exports`)
  const pushed = totalsFromOtlp(otlp.bodies, report.runId)
  t.is(pushed.foreignRunIds, 0, 'every data point carries the run id')
  t.deepEqual(pushed.totals, expected)
})

test('a collector that is down: the run completes and says so; an --otlp off this machine is refused before any load', async t => {
  const dir = tempDir(t)
  // a port that was just free: nothing listens there
  const down = createServer()
  await new Promise<void>(resolve => down.listen(0, '127.0.0.1', resolve))
  const port = (down.address() as AddressInfo).port
  await new Promise(resolve => down.close(resolve))
  const out = join(dir, 'out')
  const ndjson = join(dir, 'points.ndjson')
  const r = await cli(['run', '--users', '5', '--duration', '2s', '--workers', '2', '--out-ndjson', ndjson, '--otlp', `http://127.0.0.1:${port}`, '--out', out], { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.log(`run with the collector down: ${r.ms} ms`)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunResult
  t.is(report.hints.length, 1)
  t.regex(report.hints[0]!, new RegExp(`^OTLP push to http://127\\.0\\.0\\.1:${port}/v1/metrics failed \\(\\d+ of \\d+ exports.*is a collector listening there\\?`))
  t.regex(r.stdout, /OTLP push to .* failed/, 'the summary says it')
  // the file stream is whole all the same
  const points = readFileSync(ndjson, 'utf8').trimEnd().split('\n').map(l => JSON.parse(l) as Line).filter((l): l is Point => l.type === 'point')
  t.deepEqual(totalsFromPoints(points), totalsFromReport(report.metrics))

  const remote = join(dir, 'remote')
  const refused = await cli(['run', '--users', '5', '--duration', '2s', '--otlp', 'http://192.0.2.10:4318', '--out', remote], { cwd: dir })
  t.is(refused.code, 2)
  t.regex(refused.stderr, /CT_ERR_CONFIG: otlp collector 192\.0\.2\.10:4318 is not a loopback address: metrics stay on this machine unless --allow-remote/)
  t.false(existsSync(remote), 'no load, no report')
  const both = await cli(['run', '--json', '--out-ndjson', '-'], { cwd: dir })
  t.is(both.code, 2)
  t.regex(both.stderr, /--json and --out-ndjson - both write to stdout/)
})

test('seconds closed late still add up: ticks for a closed second fold into the oldest open one, each second is told once', t => {
  const agg = new MetricsAggregator(0)
  const told: SeriesPoint[] = []
  agg.onSecondClosed(p => told.push(p))
  const tick = (n: number, at: number): void => agg.add({ counters: { 'http.reqs': n }, rates: { checks: [n, 1] }, trends: {}, gauges: {} }, 'w', at)
  tick(1, 100); tick(2, 1100); tick(3, 2100); tick(4, 3100)
  t.deepEqual(told.map(p => p.t), [0, 1], 'closed when the second after next opens')
  tick(5, 500) // late: second 0 is closed; counted in second 2, the oldest still open
  tick(6, 2900)
  const series = agg.series()
  t.deepEqual(told.map(p => p.t), [0, 1, 2, 3])
  t.is(series, agg.series())
  t.deepEqual(told, series)
  t.is(told.reduce((n, p) => n + p.counters['http.reqs']!, 0), agg.counter('http.reqs'))
  t.is(told.reduce((n, p) => n + p.rates.checks!.fails, 0), agg.rate('checks').fails)
  t.is(told.find(p => p.t === 2)!.counters['http.reqs'], 3 + 5 + 6)
})
