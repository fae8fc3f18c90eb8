// `user.metrics`: the scenario's own trends, counters, rates and gauges, recorded in the worker's
// MetricsRecorder beside the built-ins and merged the same way. One per cohort, shared by its users:
// a metric belongs to the run, not to a user. A misuse (bad name, another kind than declared, a
// value that is not a number) throws a ScenarioInvalidError in the calling iteration: counted as
// that iteration's error, never a lost worker.
import { ScenarioInvalidError } from '../errors.js'
import { customNameProblem, customUnitProblem, metricKey, trendPerUnit, type CustomMetricDefinition, type CustomMetricDefinitions, type MetricKind, type MetricsRecorder } from '../metrics/index.js'

/** Tags of one sample: recorded under the bare name and under `name{tag:value,...}` too. */
export type MetricTags = Readonly<Record<string, string>>

export interface TrendMetric { readonly name: string, add: (value: number, tags?: MetricTags) => void }
export interface CounterMetric { readonly name: string, add: (n?: number, tags?: MetricTags) => void }
export interface RateMetric { readonly name: string, add: (passed: boolean, tags?: MetricTags) => void }
export interface GaugeMetric { readonly name: string, set: (value: number, tags?: MetricTags) => void }

export class UserMetrics {
  readonly #recorder: MetricsRecorder
  /** declared by the scenario, then as first used */
  readonly #definitions = new Map<string, CustomMetricDefinition>()
  readonly #handles = new Map<string, TrendMetric | CounterMetric | RateMetric | GaugeMetric>()

  constructor (recorder: MetricsRecorder) {
    this.#recorder = recorder
  }

  /** @internal the scenario's `metrics` (checked when it was loaded), once it is imported */
  declare (metrics: CustomMetricDefinitions | undefined): void {
    for (const [name, d] of Object.entries(metrics ?? {})) {
      this.#definitions.set(name, d)
      this.#recorder.define(name, d)
    }
  }

  /** Values >= 0 (a negative one counts as 0), in `unit`: ms (the default) to the microsecond, any other in whole units. */
  trend (name: string, options: { unit?: string } = {}): TrendMetric {
    return this.#handle(name, 'trend', options.unit, (d) => {
      const whole = trendPerUnit(d) === 1
      return {
        name,
        add: (value, tags) => {
          const v = finite(name, value)
          // whole units of its own, or ms stored as microseconds (see metrics/custom.ts)
          if (whole) this.#each(name, tags, key => this.#recorder.histogram(key).recordValue(v <= 0 ? 0 : Math.round(v)))
          else this.#each(name, tags, key => this.#recorder.trend(key, v))
        }
      }
    })
  }

  /** Counts `n` (default 1, never negative). */
  counter (name: string, options: { unit?: string } = {}): CounterMetric {
    return this.#handle(name, 'counter', options.unit, () => ({
      name,
      add: (n = 1, tags) => {
        const v = finite(name, n)
        if (v < 0) throw new ScenarioInvalidError(`counter '${name}' cannot add ${v}: a counter only grows (use a gauge)`)
        this.#each(name, tags, key => this.#recorder.count(key, v))
      }
    }))
  }

  /** The share of `true` among the values added. */
  rate (name: string): RateMetric {
    return this.#handle(name, 'rate', undefined, () => ({
      name,
      add: (passed, tags) => {
        if (typeof passed !== 'boolean') throw new ScenarioInvalidError(`rate '${name}' takes true or false, got ${describe(passed)}`)
        this.#each(name, tags, key => this.#recorder.rate(key, passed))
      }
    }))
  }

  /** The last value set anywhere in the run, with the least and most. */
  gauge (name: string, options: { unit?: string } = {}): GaugeMetric {
    return this.#handle(name, 'gauge', options.unit, () => ({
      name,
      set: (value, tags) => {
        const v = finite(name, value)
        this.#each(name, tags, key => this.#recorder.customGauge(key, v))
      }
    }))
  }

  #handle<T extends TrendMetric | CounterMetric | RateMetric | GaugeMetric> (name: string, kind: MetricKind, unit: string | undefined, make: (d: CustomMetricDefinition) => T): T {
    let known = this.#definitions.get(name)
    if (known === undefined) {
      const problem = typeof name === 'string' ? customNameProblem(name) ?? customUnitProblem(unit) : `metric name must be a string, got ${describe(name)}`
      if (problem !== undefined) throw new ScenarioInvalidError(`user.metrics.${kind}(): ${problem}`)
      const d: CustomMetricDefinition = unit === undefined ? { kind } : { kind, unit }
      this.#definitions.set(name, d)
      this.#recorder.define(name, d)
      known = d
    } else if (known.kind !== kind) {
      throw new ScenarioInvalidError(`user.metrics.${kind}('${name}'): '${name}' is a ${known.kind} (declared in the scenario's metrics, or first used so): use user.metrics.${known.kind}('${name}')`)
    } else if (unit !== undefined && unit !== known.unit) {
      throw new ScenarioInvalidError(`user.metrics.${kind}('${name}', { unit: '${unit}' }): '${name}' is in ${known.unit === undefined ? 'no unit' : `'${known.unit}'`}`)
    }
    let h = this.#handles.get(name)
    if (h === undefined) {
      h = make(known)
      this.#handles.set(name, h)
    }
    return h as T
  }

  #each (name: string, tags: MetricTags | undefined, record: (key: string) => void): void {
    record(name)
    if (tags !== undefined && Object.keys(tags).length > 0) record(metricKey(name, tags))
  }
}

function finite (name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ScenarioInvalidError(`metric '${name}' takes a finite number, got ${describe(v)}`)
  return v
}

function describe (v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v)
}
