// A plan of several scenarios (the `scenarios` option) on the main thread: every entry's module
// loaded before any load, its own aggregator beside the run's, and its own cohort plan (its
// profile, deadlines and startTime) for the cohorts that run it.
import { ScenarioInvalidError } from '../errors.js'
import { MetricsAggregator } from '../metrics/index.js'
import { planMaxDurationMs, type ResolvedRunOptions, type ResolvedScenarioEntry } from '../options/index.js'
import { planDeadlines, type CohortPlan, type RunnerScenario } from '../pool/index.js'
import type { RunResult } from '../result/index.js'
import { loadScenario, type LoadedScenario } from '../scenario/index.js'

export interface PlanPart {
  entry: ResolvedScenarioEntry
  loaded: LoadedScenario
  agg: MetricsAggregator
}

/** Every entry's scenario, loaded (compiled, imported, checked) in order; on a failure the ones loaded are disposed. */
export async function loadPlanParts (o: ResolvedRunOptions, t0: number): Promise<PlanPart[]> {
  const parts: PlanPart[] = []
  try {
    for (const entry of o.scenarios ?? []) {
      parts.push({ entry, loaded: await loadScenario(entry.scenario, o.cwd), agg: new MetricsAggregator(t0, o.maxRequestNames) })
    }
    // run-wide steps are one per run: the plan's are its first entry's, and their data reaches every entry's users
    const extra = parts.slice(1).filter(p => p.loaded.scenario.before !== undefined || p.loaded.scenario.after !== undefined)
    if (extra.length > 0) {
      throw new ScenarioInvalidError(`scenarios.${extra[0]!.entry.name}: only a plan's first entry (${parts[0]!.entry.name}) may have before/after: a run has one run-wide setup, and its data is user.run.data in every entry`)
    }
  } catch (err) {
    for (const p of parts) p.loaded.dispose()
    throw err
  }
  return parts
}

/** The run's scenario as the report names it: the one loaded, or the plan's entries. */
export function scenarioOfRun (loaded: LoadedScenario | undefined, parts: readonly PlanPart[]): RunResult['scenario'] {
  if (parts.length === 0) return { name: loaded!.scenario.name, source: loaded!.source }
  return { name: parts.map(p => p.entry.name).join(', '), source: parts.map(p => `${p.entry.name}: ${p.loaded.source}`).join(', ') }
}

/** What every cohort's plan shares, whatever its scenario. */
export type SharedCohortPlan = Pick<CohortPlan, 'gracefulStopMs' | 'errorBackoffMs' | 'drainMs'>

/** Each entry's cohort plan: its own load phase, counted from its startTime. */
export function runnerScenarios (o: ResolvedRunOptions, parts: readonly PlanPart[], shared: SharedCohortPlan, setupWaves: number): Map<string, RunnerScenario> {
  return new Map(parts.map(({ entry, loaded, agg }) => [entry.name, {
    scenarioUrl: loaded.url,
    aggregator: agg,
    plan: {
      ...shared,
      model: entry.plan.model,
      profile: entry.plan.profile,
      durationMs: entry.plan.durationMs,
      iterations: entry.plan.iterations,
      startTimeMs: entry.startTimeMs,
      deadlines: planDeadlines({
        durationMs: entry.plan.durationMs,
        maxDurationMs: o.maxDurationMs,
        gracefulStopMs: o.gracefulStopMs,
        drainMs: o.drainMs,
        setupTimeoutMs: o.setupTimeoutMs,
        setupWaves,
        teardownTimeoutMs: o.teardownTimeoutMs
      })
    }
  }]))
}

/** The bound of the whole load phase: an iteration-only entry's maxDuration counts from its startTime. */
export function runMaxDurationMs (o: ResolvedRunOptions): number {
  return o.scenarios === null ? o.maxDurationMs : planMaxDurationMs(o.scenarios, o.maxDurationMs)
}
