// Thresholds of a plan of several scenarios: a key with a `scenario` tag
// (`http.req.duration{scenario:chat}`, `http.reqs{name:send,scenario:chat}`) is read from that
// scenario's own metrics under the key without the tag; every other key from the run's.
import { METRICS, metricKey, splitKey, type MetricsAggregator } from '../metrics/index.js'
import type { ScenarioReport, ThresholdResult } from '../result/index.js'
import { thresholdInputFrom, type ThresholdInput } from './evaluate.js'

/** The scenario a key names, and the key as that scenario's metrics store it; undefined: no scenario tag. */
export function scenarioOfKey (key: string): { scenario: string, key: string } | undefined {
  const { metric, tags } = splitKey(key)
  const scenario = tags.scenario
  if (scenario === undefined) return undefined
  const rest = { ...tags }
  delete rest.scenario
  return { scenario, key: metricKey(metric, rest) }
}

/**
 * One ThresholdInput over the run's metrics and each scenario's. A key naming a scenario the run
 * does not have reads as never recorded (the options check refuses such keys before the run).
 */
export function scenarioRoutedInput (overall: ThresholdInput, byScenario: ReadonlyMap<string, ThresholdInput>): ThresholdInput {
  const route = <T>(key: string, read: (input: ThresholdInput, key: string) => T): T | undefined => {
    const s = scenarioOfKey(key)
    if (s === undefined) return read(overall, key)
    const input = byScenario.get(s.scenario)
    return input === undefined ? undefined : read(input, s.key)
  }
  return {
    trend: key => route(key, (i, k) => i.trend(k)),
    percentile: (key, p) => route(key, (i, k) => i.percentile(k, p)),
    counter: key => route(key, (i, k) => i.counter(k)),
    rate: key => route(key, (i, k) => i.rate(k)),
    gauge: key => route(key, (i, k) => i.gauge(k)),
    loadSeconds: overall.loadSeconds
  }
}

/** What a run's thresholds read: its metrics, and with a plan of several scenarios each one's too. */
export function runThresholdInput (agg: MetricsAggregator, byScenario: ReadonlyMap<string, MetricsAggregator>, loadSeconds: number): ThresholdInput {
  const overall = thresholdInputFrom(agg, loadSeconds)
  if (byScenario.size === 0) return overall
  return scenarioRoutedInput(overall, new Map([...byScenario].map(([name, a]) => [name, thresholdInputFrom(a, loadSeconds)])))
}

/**
 * A plan entry's figures from its own aggregator: totals (counter rates over `ranMs`, the time
 * its load ran), iterations, errors, checks, and the run's thresholds on its `{scenario:x}` keys.
 */
export function scenarioFigures (name: string, agg: MetricsAggregator, thresholds: readonly ThresholdResult[], ranMs: number): Pick<ScenarioReport, 'metrics' | 'iterations' | 'errors' | 'checks' | 'thresholds' | 'status'> {
  const own = thresholds.filter(t => scenarioOfKey(t.metric)?.scenario === name)
  const checks = agg.rate(METRICS.checks)
  return {
    metrics: agg.summary(ranMs / 1000),
    iterations: agg.counter(METRICS.iterations),
    errors: agg.counter(METRICS.errors),
    checks: { passes: checks.passes, fails: checks.fails },
    thresholds: own,
    status: own.every(t => t.passed) ? 'passed' : 'failed'
  }
}
