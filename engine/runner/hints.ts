// One-line diagnoses of a run, from what was measured: what probably went wrong and what to try.
// They explain; they never decide pass or fail.
import { METRICS, type MetricsAggregator } from '../metrics/index.js'

export interface HintInput {
  agg: MetricsAggregator
  /** users set up in the run */
  users: number
  setupConcurrency: number
}

export function runHints (i: HintInput): string[] {
  const hints: string[] = []
  const accept = i.agg.counter(METRICS.httpConnectTimeouts)
  // a few can be bad luck; a cluster is the server not taking connections
  if (accept >= Math.max(3, i.users / 100)) {
    hints.push(`${accept} requests timed out on connections the server had not answered yet (connect or response headers): it did not take new connections in time, likely its listen backlog (Node's default 511, capped by net.core.somaxconn). Raise server.listen({ backlog }) and somaxconn, lower --setup-concurrency (now ${i.setupConcurrency}), or ramp users up with ramping-users`)
  }
  return hints
}
