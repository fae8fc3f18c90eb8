// Outage detection from the per-second series and the per-tick outcome marks. A second is failed
// when it had requests and more than OUTAGE_RULES.failShare of them failed, or none succeeded; a
// second without requests (users stuck in timeouts or backoff) continues whatever came before.
// Consecutive failed seconds make one outage; its edges come from the marks, finer than a second.
import { OUTAGE_RULES, type Outage, type SeriesPoint } from '../result/index.js'
import { METRICS } from './names.js'
import type { OutcomeMarkTuple } from './outcome-marks.js'
import type { MetricsAggregator } from './aggregator.js'

interface Second { t: number, ok: number, failed: number }

const finite = (...vs: Array<number | undefined>): number | undefined => vs.find(v => v !== undefined && Number.isFinite(v))
const round1 = (v: number): number => Math.round(v * 10) / 10

function secondsOf (series: readonly SeriesPoint[], load: { startS: number, endS: number }): Second[] {
  return series
    .filter(p => p.t >= Math.floor(load.startS) && p.t < load.endS)
    .map((p) => {
      const r = p.rates[METRICS.httpReqFailed]
      // http.req.failed counts failed requests as its "passes"
      return { t: p.t, ok: r?.fails ?? 0, failed: r?.passes ?? 0 }
    })
}

const isFailed = (s: Second): boolean => s.ok + s.failed > 0 && (s.ok === 0 || s.failed / (s.ok + s.failed) > OUTAGE_RULES.failShare)

/** Index ranges [first, last] of failed seconds (a quiet second inside one continues it). */
function failedRuns (seconds: readonly Second[]): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  let open: number | undefined
  let last = -1
  seconds.forEach((s, i) => {
    if (s.ok + s.failed === 0) return
    if (isFailed(s)) {
      open ??= i
      last = i
    } else if (open !== undefined) {
      runs.push([open, last])
      open = undefined
    }
  })
  if (open !== undefined) runs.push([open, last])
  return runs
}

function median (values: number[]): number {
  if (values.length === 0) return 0
  const v = [...values].sort((a, b) => a - b)
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
}

/** Successful requests per second before second index `first`: whole seconds of load, the one just before left out. */
function baselineBefore (seconds: readonly Second[], first: number, loadStartS: number): number {
  const before = seconds.slice(0, Math.max(0, first - 1)).filter(s => s.t > loadStartS && s.ok + s.failed > 0)
  return median((before.length > 0 ? before : seconds.slice(0, first)).map(s => s.ok))
}

/** Every outage of the run, oldest first. `marks` are ms since the run started, per second (aggregator.outcomeMarks()). */
export function detectOutages (
  series: readonly SeriesPoint[],
  marks: ReadonlyMap<number, OutcomeMarkTuple>,
  load: { startS: number, endS: number }
): Outage[] {
  const seconds = secondsOf(series, load)
  const runs = failedRuns(seconds)
  return runs.map(([a, b], k) => {
    const first = seconds[a]!
    const lastFailed = seconds[b]!
    const at = (t: number): OutcomeMarkTuple | undefined => marks.get(t)
    // where the failures that never let up began: the streak the second before ended on, else this second's
    const startMs = finite(at(first.t - 1)?.[3], at(first.t)?.[3], at(first.t)?.[2]) ?? first.t * 1000
    // the first success after the last failure: within the last failed second, else the next second with successes
    const next = seconds.slice(b + 1).find(s => s.ok > 0)
    const after = (v: number | undefined): number | undefined => (v !== undefined && v > startMs ? v : undefined)
    const returned = finite(after(at(lastFailed.t)?.[1]), next === undefined ? undefined : finite(after(at(next.t)?.[0]), next.t * 1000))
    const endMs = returned ?? load.endS * 1000
    const baselineRps = baselineBefore(seconds, a, load.startS)
    const until = runs[k + 1] === undefined ? seconds.length : runs[k + 1]![0]
    const back = returned === undefined
      ? undefined
      : seconds.slice(b + 1, until).find(s => s.t >= Math.floor(endMs / 1000) && s.ok >= OUTAGE_RULES.recoveryShare * baselineRps)
    const failedRequests = seconds
      .filter(s => s.t >= Math.floor(startMs / 1000) && s.t <= Math.max(lastFailed.t, Math.floor(endMs / 1000)))
      .reduce((n, s) => n + s.failed, 0)
    return {
      startMs: round1(startMs),
      endMs: round1(endMs),
      durationMs: round1(Math.max(0, endMs - startMs)),
      detectMs: round1(Math.max(0, (first.t + 1) * 1000 - startMs)),
      recoveryMs: back === undefined ? null : round1(Math.max(0, back.t * 1000 - endMs)),
      failedRequests,
      ended: returned !== undefined,
      seconds: [first.t, lastFailed.t],
      baselineRps
    }
  })
}

/**
 * The run's outages from its series and marks (no marks: edges at whole seconds), also noted as
 * metrics so thresholds (`outage.recovery: max<10000`) read them.
 */
export function noteOutages (agg: MetricsAggregator, loadWindow: { startS: number, endS: number }): Outage[] {
  const outages = detectOutages(agg.series(), agg.outcomeMarks(), loadWindow)
  if (outages.length === 0) return outages
  agg.noteCount(METRICS.outages, outages.length)
  agg.note(METRICS.outageDuration, outages.map(o => o.durationMs))
  agg.note(METRICS.outageDetect, outages.map(o => o.detectMs))
  // never recovered: it took at least until the load ended
  agg.note(METRICS.outageRecovery, outages.map(o => o.recoveryMs ?? Math.round((loadWindow.endS * 1000 - o.endMs) * 1000) / 1000))
  return outages
}
