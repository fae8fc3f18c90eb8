// The outputs fed while the run goes (--out-ndjson, --otlp): opened before any load (a bad path
// or a missing SDK fails early), fed each second as the aggregator closes it, ended after the
// result is built (its series() closes the last seconds) and before the report files are written,
// so their warnings land in report.json's hints.
import type { MetricsAggregator } from '../metrics/index.js'
import type { ResolvedRunOptions } from '../options/index.js'
import { NDJSON_SCHEMA_VERSION, NdjsonOutput, OtlpOutput } from '../report/index.js'
import type { RunResult } from '../result/index.js'
import { Lifecycle, type Transitions } from '../shared/index.js'

export interface RunIdentity {
  runId: string
  startedAt: Date
  scenario: string
  /** redacted */
  target: string
}

type State = 'opened' | 'streaming' | 'ended'
const TRANSITIONS: Transitions<State> = { opened: ['streaming', 'ended'], streaming: ['ended'], ended: [] }

export class LiveOutputs {
  readonly lifecycle = new Lifecycle<State>('live outputs', 'opened', TRANSITIONS)
  readonly #o: ResolvedRunOptions
  readonly #ndjson: NdjsonOutput | undefined
  #otlp: OtlpOutput | undefined
  #runId = ''

  private constructor (o: ResolvedRunOptions, ndjson: NdjsonOutput | undefined) {
    this.#o = o
    this.#ndjson = ndjson
  }

  static async open (o: ResolvedRunOptions): Promise<LiveOutputs> {
    return new LiveOutputs(o, o.outNdjson === null ? undefined : await NdjsonOutput.open(o.outNdjson))
  }

  /** Writes the run line, starts the OTLP push, and subscribes to the closing seconds. */
  async begin (run: RunIdentity, agg: MetricsAggregator): Promise<void> {
    this.lifecycle.to('streaming')
    this.#runId = run.runId
    this.#ndjson?.write({ type: 'run', schemaVersion: NDJSON_SCHEMA_VERSION, runId: run.runId, startedAt: run.startedAt.toISOString(), scenario: run.scenario, target: run.target })
    if (this.#o.otlp !== null) this.#otlp = await OtlpOutput.start({ url: this.#o.otlp, runId: run.runId, scenario: run.scenario })
    agg.onSecondClosed((point, histograms, perUnit) => {
      if (!this.lifecycle.is('streaming')) return
      this.#ndjson?.second(point)
      this.#otlp?.second(point, histograms, perUnit)
    })
  }

  /** Ends each output (the end line, the last push); returns their warnings. Once; later calls do nothing. */
  async end (status: RunResult['status'] | 'error'): Promise<string[]> {
    if (this.lifecycle.is('ended')) return []
    this.lifecycle.to('ended')
    const warnings = await Promise.all([this.#ndjson?.end(this.#runId, status), this.#otlp?.close()])
    return warnings.filter((w): w is string => w !== undefined)
  }
}
