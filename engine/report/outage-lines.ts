// Outages in words, one line each, for the terminal summary, summary.md and junit.xml's system-out.
import { OUTAGE_RULES, type Outage, type RunResult } from '../result/index.js'

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

export function outageLine (o: Outage, i: number): string {
  const back = !o.ended
    ? 'still failing when the load ended'
    : o.recoveryMs === null
      ? `target back at ${s(o.endMs)}, throughput never back at ${OUTAGE_RULES.recoveryShare * 100}% of ${o.baselineRps}/s`
      : `target back at ${s(o.endMs)} (first success), throughput back ${s(o.recoveryMs)} later`
  return `outage ${i + 1}: ${s(o.startMs)} -> ${s(o.endMs)} (${s(o.durationMs)}) · detected after ${s(o.detectMs)} · ${back} · ${o.failedRequests.toLocaleString('en-US')} failed requests`
}

/** Every outage's line (none: empty), times in seconds since the run started. */
export function outageLines (r: Pick<RunResult, 'outages'>): string[] {
  // reports written before outage detection have no list
  return (r.outages ?? []).map(outageLine)
}
