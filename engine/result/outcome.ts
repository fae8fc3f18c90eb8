// The pass/fail decision of a run, as one pure function of what was measured: every reason a
// run failed is a line of `failures`, in a fixed order, and the status follows from them.
import type { BreakpointReport } from './executor-report.js'
import type { RunStatus } from './run-result.js'
import type { ThresholdResult } from './threshold-result.js'

export interface OutcomeInput {
  /** the run was stopped from outside (signal, AbortSignal) */
  interrupted: boolean
  /** what the engine itself recorded: failed cohorts, a hard deadline reached */
  engineFailures: readonly string[]
  /** the abortOnFail threshold that stopped the run early */
  abortedBy?: ThresholdResult | undefined
  /** a breakpoint run's result: its thresholds mark where the target broke, they do not fail it */
  breakpoint?: BreakpointReport | undefined
  thresholds: readonly ThresholdResult[]
  violations: number
  users: { planned: number, lost: number }
  errors: number
  /** iterations that completed without an error (iteration.duration's count): none means nothing was measured */
  iterations: number
  checksFailed: number
  leak?: { verdict: string, reason: string } | undefined
}

export interface Outcome {
  status: RunStatus
  failures: string[]
}

function thresholdFailure (r: ThresholdResult): string {
  const value = r.value === null ? 'no data' : r.value
  return r.default === true
    ? `failed requests above the default budget: ${r.metric} ${r.expression} failed (${value}); a threshold of your own on ${r.metric} replaces it`
    : `threshold ${r.metric}: ${r.expression} failed (${value})`
}

export function decideOutcome (i: OutcomeInput): Outcome {
  const failures = [...i.engineFailures]
  const a = i.abortedBy
  if (a !== undefined) failures.push(`threshold ${a.metric}: ${a.expression} failed (${a.value}) with abortOnFail: the run stopped early`)
  // latencies and rates of a run whose users never finished an iteration describe nothing
  if (!i.interrupted && i.iterations === 0) failures.push('nothing was measured: no iteration completed without an error')
  if (i.breakpoint === undefined) for (const r of i.thresholds) if (!r.passed) failures.push(thresholdFailure(r))
  if (i.violations > 0) failures.push(`${i.violations} isolation violations`)
  if (i.users.lost > 0) failures.push(`${i.users.lost} of ${i.users.planned} users lost`)
  if (i.errors > 0) failures.push(`${i.errors} errors`)
  if (i.checksFailed > 0) failures.push(`${i.checksFailed} checks failed`)
  if (i.leak?.verdict === 'leak') failures.push(`memory leak: ${i.leak.reason}`)
  const status: RunStatus = i.interrupted ? 'interrupted' : failures.length > 0 ? 'failed' : 'passed'
  return { status, failures }
}
