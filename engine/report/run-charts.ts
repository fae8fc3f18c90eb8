// A run's charts as data, from report.json's per-second series: one x per point of timeSeries
// (seconds since the run started), so every chart of a run has the run's number of points.
// The heap chart is the exception: its x is completed operations, one per heap reading.
import { METRICS } from '../metrics/index.js'
import { VIOLATION_KINDS, type ProfilePoint, type RunResult, type SeriesPoint } from '../result/index.js'
import { paletteColor, type ChartSeries, type ChartSpec } from './html-page.js'

/** Per-name latency charts drawn (the busiest names); the rest are named in a caption. */
export const MAX_NAME_CHARTS = 8

const SECONDS = 'seconds since the run started'

type Pick = (p: SeriesPoint) => number | null

function line (r: RunResult, label: string, pick: Pick, i: number, extra: Partial<ChartSeries> = {}): ChartSeries {
  return { label, values: r.timeSeries.map(pick), color: paletteColor(i), ...extra }
}

function counter (key: string): Pick {
  return p => p.counters[key] ?? 0
}

/** Outages shaded on every per-second chart, from their first failure to the first success after. */
function outageBands (r: RunResult): NonNullable<ChartSpec['bands']> {
  // a point at t covers [t, t + 1): the shade sits where the failures were
  return (r.outages ?? []).map((o, i) => ({ from: o.startMs / 1000, to: o.endMs / 1000, label: `outage ${i + 1}` }))
}

function chart (r: RunResult, id: string, title: string, yLabel: string, series: ChartSeries[], caption?: string): ChartSpec {
  const bands = outageBands(r)
  return { id, title, xLabel: SECONDS, yLabel, x: r.timeSeries.map(p => p.t), series, ...(caption !== undefined && { caption }), ...(bands.length > 0 && { bands }) }
}

/** Keys of a tagged metric present anywhere in the series: `http.req.duration{name:get item}` -> `get item`. */
function tagValues (r: RunResult, metric: string, tag: string, of: (p: SeriesPoint) => Record<string, unknown>): string[] {
  const prefix = `${metric}{${tag}:`
  const seen = new Set<string>()
  for (const p of r.timeSeries) for (const k of Object.keys(of(p))) if (k.startsWith(prefix)) seen.add(k.slice(prefix.length, -1))
  return [...seen]
}

function anyValue (r: RunResult, pick: Pick): boolean {
  return r.timeSeries.some(p => { const v = pick(p); return v !== null && v !== 0 })
}

function percentiles (r: RunResult, key: string): ChartSeries[] {
  const trend = (f: 'med' | 'p95' | 'p99'): Pick => p => { const x = p.trends[key]; return x === undefined || x.count === 0 ? null : x[f] }
  return [line(r, 'p50', trend('med'), 0), line(r, 'p95', trend('p95'), 1), line(r, 'p99', trend('p99'), 2)]
}

function throughputChart (r: RunResult): ChartSpec {
  const failed: Pick = p => p.rates[METRICS.httpReqFailed]?.passes ?? 0
  return chart(r, 'throughput', 'Requests and errors per second', 'per second', [
    line(r, 'requests/s', counter(METRICS.httpReqs), 0),
    line(r, 'failed requests/s', failed, 1),
    line(r, 'errors/s', counter(METRICS.errors), 3),
    line(r, 'iterations/s', counter(METRICS.iterations), 2)
  ])
}

/** The plan's value at ms of load: linear between its points (ramps are linear), null outside it. */
export function plannedAt (profile: readonly ProfilePoint[], atMs: number): number | null {
  const first = profile[0]
  const last = profile.at(-1)
  if (first === undefined || last === undefined || atMs < first.atMs || atMs > last.atMs) return null
  for (let i = 1; i < profile.length; i++) {
    const a = profile[i - 1]!
    const b = profile[i]!
    if (atMs <= b.atMs) return b.atMs === a.atMs ? b.value : a.value + (b.value - a.value) * (atMs - a.atMs) / (b.atMs - a.atMs)
  }
  return last.value
}

/** Closed model: active users against the planned users. Open model: the plan is iterations/s. */
function usersCharts (r: RunResult): ChartSpec[] {
  // a point's gauge is the last value set in its second: the plan is read at that second's end
  const planned: Pick = p => plannedAt(r.executor.profile, (p.t + 1 - r.loadWindow.startS) * 1000)
  const active = line(r, 'active users', p => p.gauges[METRICS.usersActive] ?? null, 0)
  const caption = `load phase from ${r.loadWindow.startS.toFixed(1)} s to ${r.loadWindow.endS.toFixed(1)} s; the plan is read at the end of each second`
  if (r.executor.model === 'closed') {
    return [chart(r, 'users', 'Active users and the plan', 'users', [active, line(r, `planned users (${r.executor.name})`, planned, 1, { dashed: true })], caption)]
  }
  return [
    chart(r, 'users', 'Active users', 'users', [active], caption),
    chart(r, 'arrivals', 'Iterations per second and the plan', 'iterations/s', [
      line(r, 'iterations/s', counter(METRICS.iterations), 0),
      line(r, `planned iterations/s (${r.executor.name})`, planned, 1, { dashed: true }),
      line(r, 'dropped iterations/s', counter(METRICS.droppedIterations), 3)
    ], caption)
  ]
}

function latencyCharts (r: RunResult): ChartSpec[] {
  const out = [chart(r, 'latency', 'HTTP latency (all requests)', 'ms', percentiles(r, METRICS.httpReqDuration))]
  const names = tagValues(r, METRICS.httpReqDuration, 'name', p => p.trends)
  const count = (name: string): number => r.timeSeries.reduce((n, p) => n + (p.trends[`${METRICS.httpReqDuration}{name:${name}}`]?.count ?? 0), 0)
  const ranked = names.map(n => ({ n, c: count(n) })).sort((a, b) => b.c - a.c)
  const shown = ranked.slice(0, MAX_NAME_CHARTS)
  const rest = ranked.slice(MAX_NAME_CHARTS)
  shown.forEach(({ n }, i) => {
    const caption = i === shown.length - 1 && rest.length > 0 ? `not drawn (fewer requests): ${rest.map(x => x.n).join(', ')}` : undefined
    out.push(chart(r, `latency-name-${i + 1}`, `HTTP latency: ${n}`, 'ms', percentiles(r, `${METRICS.httpReqDuration}{name:${n}}`), caption))
  })
  return out
}

function eventCharts (r: RunResult): ChartSpec[] {
  const counters = [METRICS.wsEventsReceived, METRICS.wsMessagesReceived, METRICS.ioEventsReceived, METRICS.ioEventsSent]
  const present = counters.filter(k => anyValue(r, counter(k)))
  const out: ChartSpec[] = []
  if (present.length > 0) out.push(chart(r, 'events', 'WebSocket and Socket.IO events per second', 'per second', present.map((k, i) => line(r, `${k}/s`, counter(k), i))))
  if (anyValue(r, p => p.trends[METRICS.wsEventLatency]?.count ?? 0)) out.push(chart(r, 'event-latency', 'Event latency (receive time minus the server\'s send stamp)', 'ms', percentiles(r, METRICS.wsEventLatency)))
  return out
}

function isolationChart (r: RunResult): ChartSpec[] {
  const kinds = VIOLATION_KINDS.filter(k => anyValue(r, counter(`${METRICS.isolationViolations}{kind:${k}}`)))
  if (kinds.length === 0) return []
  return [chart(r, 'isolation', 'Isolation violations per second, by kind', 'violations/s', kinds.map((k, i) => line(r, k, counter(`${METRICS.isolationViolations}{kind:${k}}`), i + 1)))]
}

/** Heap readings against completed operations, with the fitted slope through their median offset. */
function heapChart (r: RunResult): ChartSpec[] {
  const lk = r.leaks
  if (lk === undefined || lk.samples.length === 0) return []
  const samples = [...lk.samples].sort((a, b) => a.ops - b.ops)
  const mib = (b: number): number => Math.round(b / 2 ** 20 * 1000) / 1000
  // Theil-Sen's intercept is the median of y - slope * x (the report keeps the slope, not the line)
  const offsets = samples.map(s => s.usedBytes - lk.bytesPerOp * s.ops).sort((a, b) => a - b)
  const mid = offsets.length >> 1
  const intercept = offsets.length % 2 === 1 ? offsets[mid]! : (offsets[mid - 1]! + offsets[mid]!) / 2
  const caption = `verdict ${lk.verdict.toUpperCase()}: ${Math.round(lk.bytesPerOp)} B/op (95% CI ${Math.round(lk.ciLow)}..${Math.round(lk.ciHigh)}), ${lk.reason}`
  return [{
    id: 'heap',
    title: `Target heap after GC: ${lk.verdict}`,
    xLabel: 'completed operations',
    yLabel: 'MiB',
    x: samples.map(s => s.ops),
    series: [
      { label: 'heap used (MiB)', values: samples.map(s => mib(s.usedBytes)), color: paletteColor(0), points: true },
      { label: `fitted slope ${Math.round(lk.bytesPerOp)} B/op`, values: samples.map(s => mib(intercept + lk.bytesPerOp * s.ops)), color: paletteColor(1), dashed: true }
    ],
    caption
  }]
}

/** Every chart the run's data has, in reading order. */
export function runCharts (r: RunResult): ChartSpec[] {
  if (r.timeSeries.length === 0) return heapChart(r)
  return [throughputChart(r), ...latencyCharts(r), ...usersCharts(r), ...eventCharts(r), ...isolationChart(r), ...heapChart(r)]
}
