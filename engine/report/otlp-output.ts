// `--otlp <url>`: the run's metrics pushed to an OpenTelemetry collector with the OTel JS SDK's
// OTLP/HTTP (JSON) exporter, once a second, as each second closes. The SDK is imported only
// when asked for. Kinds map as: counter -> Counter (monotonic sum), rate -> Counter with
// `outcome: passes|fails`, trend -> Histogram (each second's merged HDR values recorded with their
// counts, so counts are exact), gauge -> Gauge. Every point carries the run id and the key's tag.
// A collector that is down or slow costs a warning, never the run: each wait is bounded.
import type { Attributes, Counter, Gauge, Histogram, Meter } from '@opentelemetry/api'
import type { MeterProvider, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { forEachRecorded, metricDefinition, splitKey, type Histogram as HdrHistogram, type MetricUnit } from '../metrics/index.js'
import type { SeriesPoint } from '../result/index.js'
import { withTimeout } from '../shared/index.js'

/** The attribute every data point carries. */
export const OTLP_RUN_ID_ATTRIBUTE = 'crosstalk.run.id'
const PUSH_EVERY_MS = 1000
/** bound on the last flush and on the shutdown, each */
const CLOSE_TIMEOUT_MS = 3000

export interface OtlpTarget {
  /** the collector's base URL (http://127.0.0.1:4318) or its full /v1/metrics URL */
  url: string
  runId: string
  scenario: string
}

/** `http://host:4318` -> `http://host:4318/v1/metrics`; a URL with a path is taken as it is. */
export function otlpMetricsUrl (url: string): string {
  const u = new URL(url)
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/metrics'
  return u.href
}

/** OTel's UCUM-style units: ms, By, and `{requests}` for a count of things. */
function otelUnit (unit: MetricUnit | undefined): string | undefined {
  if (unit === undefined) return undefined
  if (unit === 'ms') return 'ms'
  if (unit === 'bytes') return 'By'
  // a rate is pushed as counts of passes and fails, not as its share
  if (unit === 'share') return undefined
  return `{${unit}}`
}

/** Delegates to the OTLP exporter and keeps count of what failed, for the end-of-run warning. */
class TalliedExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter
  exports = 0
  failures = 0
  lastError: string | undefined

  constructor (inner: PushMetricExporter) {
    this.#inner = inner
    if (inner.selectAggregationTemporality !== undefined) this.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner)
    if (inner.selectAggregation !== undefined) this.selectAggregation = inner.selectAggregation.bind(inner)
  }

  selectAggregationTemporality?: PushMetricExporter['selectAggregationTemporality']
  selectAggregation?: PushMetricExporter['selectAggregation']

  export (metrics: ResourceMetrics, done: Parameters<PushMetricExporter['export']>[1]): void {
    this.exports++
    this.#inner.export(metrics, (result) => {
      // ExportResultCode.SUCCESS is 0 (@opentelemetry/core, which is no direct dependency)
      if (Number(result.code) !== 0) {
        this.failures++
        this.lastError = result.error?.message ?? 'failed'
      }
      done(result)
    })
  }

  async forceFlush (): Promise<void> { await this.#inner.forceFlush() }
  async shutdown (): Promise<void> { await this.#inner.shutdown() }
}

type State = 'pushing' | 'closed'

export class OtlpOutput {
  readonly #url: string
  readonly #runId: string
  readonly #provider: MeterProvider
  readonly #meter: Meter
  readonly #exporter: TalliedExporter
  readonly #counters = new Map<string, Counter>()
  readonly #histograms = new Map<string, Histogram>()
  readonly #gauges = new Map<string, Gauge>()
  #state: State = 'pushing'

  private constructor (t: OtlpTarget, provider: MeterProvider, exporter: TalliedExporter) {
    this.#url = otlpMetricsUrl(t.url)
    this.#runId = t.runId
    this.#provider = provider
    this.#exporter = exporter
    this.#meter = provider.getMeter('crosstalk')
  }

  /** Imports the SDK and starts the periodic push (nothing is sent before the first second closes). */
  static async start (t: OtlpTarget): Promise<OtlpOutput> {
    const [sdk, otlp, resources] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
      import('@opentelemetry/resources')
    ])
    const exporter = new TalliedExporter(new otlp.OTLPMetricExporter({ url: otlpMetricsUrl(t.url), timeoutMillis: PUSH_EVERY_MS }))
    const provider = new sdk.MeterProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'crosstalk', 'crosstalk.scenario': t.scenario, [OTLP_RUN_ID_ATTRIBUTE]: t.runId }),
      readers: [new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: PUSH_EVERY_MS, exportTimeoutMillis: PUSH_EVERY_MS })]
    })
    return new OtlpOutput(t, provider, exporter)
  }

  /** Records one closed second; `histograms` are its trends' merged HDR histograms (`perUnit` recorded values per unit). */
  second (p: SeriesPoint, histograms: ReadonlyMap<string, HdrHistogram>, perUnit: (key: string) => number = () => 1000): void {
    if (this.#state !== 'pushing') return
    for (const [key, n] of Object.entries(p.counters)) this.#counter(key).add(n, this.#attributes(key))
    for (const [key, r] of Object.entries(p.rates)) {
      const c = this.#counter(key)
      c.add(r.passes, { ...this.#attributes(key), outcome: 'passes' })
      c.add(r.fails, { ...this.#attributes(key), outcome: 'fails' })
    }
    for (const [key, h] of histograms) {
      const otel = this.#histogram(key)
      const attributes = this.#attributes(key)
      const per = perUnit(key)
      forEachRecorded(h, (v, count) => {
        for (let i = 0; i < count; i++) otel.record(v / per, attributes)
      })
    }
    for (const [key, v] of Object.entries(p.gauges)) this.#gauge(key).record(v, this.#attributes(key))
  }

  /**
   * Pushes what is left and stops; bounded, so a dead collector never holds the run. Returns a
   * warning when exports failed (the run's figures are in report.json either way).
   */
  async close (): Promise<string | undefined> {
    if (this.#state === 'closed') return undefined
    this.#state = 'closed'
    let closeError: string | undefined
    for (const step of [() => this.#provider.forceFlush(), () => this.#provider.shutdown()]) {
      try {
        await withTimeout(step, CLOSE_TIMEOUT_MS, () => new Error(`no answer within ${CLOSE_TIMEOUT_MS / 1000}s`))
      } catch (err) {
        closeError ??= err instanceof Error ? err.message : String(err)
      }
    }
    const e = this.#exporter
    if (e.failures === 0 && closeError === undefined) return undefined
    const why = e.lastError ?? closeError
    return `OTLP push to ${this.#url} failed (${e.failures} of ${e.exports} exports${closeError === undefined ? '' : `, the last flush: ${closeError}`}; ${why}): is a collector listening there? The run's figures are in report.json`
  }

  #attributes (key: string): Attributes {
    return { [OTLP_RUN_ID_ATTRIBUTE]: this.#runId, ...splitKey(key).tags }
  }

  #options (key: string): { description?: string, unit?: string } {
    const d = metricDefinition(key)
    const unit = otelUnit(d?.unit)
    return { ...(d !== undefined && { description: d.description }), ...(unit !== undefined && { unit }) }
  }

  #counter (key: string): Counter {
    const name = splitKey(key).metric
    let c = this.#counters.get(name)
    if (c === undefined) { c = this.#meter.createCounter(name, this.#options(key)); this.#counters.set(name, c) }
    return c
  }

  #histogram (key: string): Histogram {
    const name = splitKey(key).metric
    let h = this.#histograms.get(name)
    if (h === undefined) { h = this.#meter.createHistogram(name, this.#options(key)); this.#histograms.set(name, h) }
    return h
  }

  #gauge (key: string): Gauge {
    const name = splitKey(key).metric
    let g = this.#gauges.get(name)
    if (g === undefined) { g = this.#meter.createGauge(name, this.#options(key)); this.#gauges.set(name, g) }
    return g
  }
}
