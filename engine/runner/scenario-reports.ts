// Each scenario of a plan as report.json shows it: its executor, users, metrics (its own
// aggregator, fed the same deltas as the run's) and the thresholds on its `{scenario:x}` keys.
import { METRICS } from '../metrics/index.js'
import type { UserCounts } from '../pool/index.js'
import type { ScenarioReport, ThresholdResult } from '../result/index.js'
import { scenarioFigures } from '../thresholds/index.js'
import type { PlanPart } from './plan-parts.js'

export function scenarioReports (parts: readonly PlanPart[], users: ReadonlyMap<string, UserCounts>, thresholds: readonly ThresholdResult[], loadDurationMs: number): Record<string, ScenarioReport> | undefined {
  if (parts.length === 0) return undefined
  const out: Record<string, ScenarioReport> = {}
  for (const { entry, loaded, agg } of parts) {
    const u = users.get(entry.name) ?? { planned: 0, allocated: 0, completed: 0, lost: 0, interrupted: 0, setupFailed: 0 }
    // counter rates over the time this scenario's load ran: from its startTime to its end or the run's
    const ranMs = Math.max(0, Math.min(loadDurationMs - entry.startTimeMs, entry.plan.durationMs ?? Infinity))
    out[entry.name] = {
      scenario: { name: loaded.scenario.name, source: loaded.source },
      executor: { name: entry.plan.executor, model: entry.plan.model, ...entry.plan.params, profile: entry.plan.profile },
      startTimeMs: entry.startTimeMs,
      tags: entry.tags,
      users: { planned: u.planned, allocated: u.allocated, peakActive: agg.gauge(METRICS.usersActive)?.max ?? 0, completed: u.completed, lost: u.lost, interrupted: u.interrupted },
      ...scenarioFigures(entry.name, agg, thresholds, ranMs)
    }
  }
  return out
}
