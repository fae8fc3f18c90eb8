// `--out-ndjson <file|->`: the run as it goes, one JSON object a line: a `run` line, a `point` line
// per metric key per closed second, an `end` line. Each second is written once, when the
// aggregator closes it, so a reader that sums the point lines gets report.json's totals.
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { OutDirError } from '../errors.js'
import { splitKey } from '../metrics/index.js'
import type { RunStatus, SeriesPoint } from '../result/index.js'

/** Bumped when a line changes shape (README, Outputs, documents each field). */
export const NDJSON_SCHEMA_VERSION = 1

export interface NdjsonRunLine {
  type: 'run'
  schemaVersion: typeof NDJSON_SCHEMA_VERSION
  runId: string
  startedAt: string
  scenario: string
  target: string
}

interface PointBase {
  type: 'point'
  /** seconds since the run started (report.json's timeSeries[].t) */
  t: number
  metric: string
  /** `http.reqs{name:get item}` -> { name: 'get item' }; {} for the metric's total */
  tags: Record<string, string>
}

export type NdjsonPointLine = PointBase & (
  | { kind: 'counter', value: number }
  | { kind: 'gauge', value: number }
  | { kind: 'rate', passes: number, fails: number }
  | { kind: 'trend', count: number, med: number, p95: number, p99: number, max: number }
)

export interface NdjsonEndLine {
  type: 'end'
  runId: string
  /** 'error': the run threw (no report.json) */
  status: RunStatus | 'error'
}

export type NdjsonLine = NdjsonRunLine | NdjsonPointLine | NdjsonEndLine

/** The lines of one closed second, in report.json's order: counters, rates, trends, gauges. */
export function pointLines (p: SeriesPoint): NdjsonPointLine[] {
  const at = (key: string): PointBase => ({ type: 'point', t: p.t, ...splitKey(key) })
  return [
    ...Object.entries(p.counters).map(([k, value]) => ({ ...at(k), kind: 'counter' as const, value })),
    ...Object.entries(p.rates).map(([k, r]) => ({ ...at(k), kind: 'rate' as const, passes: r.passes, fails: r.fails })),
    ...Object.entries(p.trends).map(([k, s]) => ({ ...at(k), kind: 'trend' as const, count: s.count, med: s.med, p95: s.p95, p99: s.p99, max: s.max })),
    ...Object.entries(p.gauges).map(([k, value]) => ({ ...at(k), kind: 'gauge' as const, value }))
  ]
}

type State = 'open' | 'ended'

/** One NDJSON stream: a file this class opened and closes, or stdout (left open). */
export class NdjsonOutput {
  readonly #sink: Writable
  readonly #owned: boolean
  #state: State = 'open'
  #error: Error | undefined

  private constructor (sink: Writable, owned: boolean) {
    this.#sink = sink
    this.#owned = owned
    // a reader that goes away (EPIPE) or a full disk must not end the run: it is said at the end
    sink.on('error', (err: Error) => { this.#error ??= err })
  }

  /** `-`: stdout. A file is created (truncated) now, before any load, so a bad path fails early. */
  static async open (path: string): Promise<NdjsonOutput> {
    if (path === '-') return new NdjsonOutput(process.stdout, false)
    const file = createWriteStream(path)
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve())
      file.once('error', err => reject(new OutDirError(`cannot write --out-ndjson ${path}: ${err.message}`, { cause: err })))
    })
    return new NdjsonOutput(file, true)
  }

  write (line: NdjsonLine): void {
    if (this.#state !== 'open' || this.#error !== undefined) return
    this.#sink.write(JSON.stringify(line) + '\n')
  }

  second (p: SeriesPoint): void {
    for (const line of pointLines(p)) this.write(line)
  }

  /** Writes the end line (once) and closes a file; returns the write error, if one happened. */
  async end (runId: string, status: NdjsonEndLine['status']): Promise<string | undefined> {
    if (this.#state === 'ended') return undefined
    this.write({ type: 'end', runId, status })
    this.#state = 'ended'
    await new Promise<void>(resolve => this.#owned ? this.#sink.end(resolve) : this.#sink.write('', () => resolve()))
    return this.#error === undefined ? undefined : `--out-ndjson stopped: ${this.#error.message}; the full series is in report.json`
  }
}
