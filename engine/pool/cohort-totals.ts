// What the main thread adds up from every cohort: metric ticks, readiness, final results and
// failures. One object per run, fed by the cohort trackers.
import type { DirectoryEntry, IsolationAggregator } from '../isolation/index.js'
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import { WorkerError } from '../errors.js'
import { ErrorGroups } from './error-groups.js'
import type { CohortResult, CohortSpec, ReadyMessage, TickMessage } from './messages.js'

export interface UserCounts { planned: number, allocated: number, completed: number, lost: number, interrupted: number, setupFailed: number }

/** A plan of several scenarios: each one's metrics (fed the same deltas as the run's) and users. */
export interface ScenarioPart {
  agg: MetricsAggregator
  users: UserCounts
}

const noUsers = (planned: number): UserCounts => ({ planned, allocated: 0, completed: 0, lost: 0, interrupted: 0, setupFailed: 0 })

export class CohortTotals {
  readonly errors = new ErrorGroups()
  /** distinct worker threads that ran cohorts */
  readonly threads = new Set<number>()
  /** who owns what, for probes across threads */
  readonly directory: DirectoryEntry[] = []
  readonly users: UserCounts
  readonly selfCheck = { checked: 0, retained: 0 }
  /** cohorts that failed outright (worker crash, pool error) */
  readonly failures: string[] = []
  /** performance.now() when the last cohort that returned left its load phase (undefined: none did) */
  loadEndedAt: number | undefined
  readonly #agg: MetricsAggregator
  readonly #isolation: IsolationAggregator
  readonly #tickMs: number

  /** by scenario name (empty: one scenario) */
  readonly #parts = new Map<string, ScenarioPart>()

  constructor (planned: number, agg: MetricsAggregator, isolation: IsolationAggregator, tickMs: number, scenarios?: ReadonlyMap<string, { agg: MetricsAggregator, planned: number }>) {
    this.users = noUsers(planned)
    this.#agg = agg
    this.#isolation = isolation
    this.#tickMs = tickMs
    for (const [name, s] of scenarios ?? []) this.#parts.set(name, { agg: s.agg, users: noUsers(s.planned) })
  }

  /** Each scenario's users, by name (empty: one scenario). */
  scenarioUsers (): Map<string, UserCounts> {
    return new Map([...this.#parts].map(([name, p]) => [name, p.users]))
  }

  ready (m: ReadyMessage, scenario?: string): void {
    this.threads.add(m.threadId)
    this.users.setupFailed += m.setupFailed
    const part = this.#part(scenario)
    if (part !== undefined) part.users.setupFailed += m.setupFailed
    for (const e of m.directory) this.directory.push(e)
  }

  tick (source: string, m: TickMessage, scenario?: string): void {
    const now = performance.now()
    this.threads.add(m.threadId)
    // counted in the middle of the interval the tick covers, not when it happened to arrive
    const at = m.coversUntilEpochMs === undefined ? now : m.coversUntilEpochMs - performance.timeOrigin - this.#tickMs / 2
    for (const agg of this.#aggs(scenario)) {
      agg.add(m.delta, source, at)
      agg.setGauge(METRICS.usersActive, source, m.active, now)
    }
    for (const g of m.errors) this.errors.merge(g)
    this.#isolation.add(m.violations)
  }

  settled (source: string, res: CohortResult, scenario?: string): void {
    const now = performance.now()
    this.threads.add(res.threadId)
    for (const agg of this.#aggs(scenario)) {
      agg.add(res.delta, source, now)
      agg.setGauge(METRICS.usersActive, source, 0, now)
    }
    for (const g of res.errors) this.errors.merge(g)
    this.#isolation.add(res.violations)
    for (const u of this.#userCounts(scenario)) {
      u.allocated += res.allocated
      u.completed += res.completed
      u.lost += res.lost
      u.interrupted += res.interrupted
    }
    if (res.loadEndedEpochMs !== null) this.loadEndedAt = Math.max(this.loadEndedAt ?? -Infinity, res.loadEndedEpochMs - performance.timeOrigin)
    this.selfCheck.checked += res.selfCheck.checked
    this.selfCheck.retained += res.selfCheck.retained
  }

  /** A task that failed: after an abort its users were interrupted; otherwise lost, never counted as success. */
  failed (source: string, spec: CohortSpec, err: Error, how: { aborted: boolean, wasReady: boolean }): void {
    for (const agg of this.#aggs(spec.scenario)) agg.setGauge(METRICS.usersActive, source, 0, performance.now())
    const counts = this.#userCounts(spec.scenario)
    for (const u of counts) u.allocated += spec.initialUsers
    if (how.aborted) {
      for (const u of counts) u.interrupted += spec.initialUsers
      return
    }
    for (const u of counts) u.lost += spec.initialUsers
    const first = (spec.userBase ?? 0) + spec.firstUser
    this.failures.push(`cohort ${spec.id} (users ${first}-${first + spec.size - 1}): ${err.message}`)
    const code = new WorkerError(err.message).code
    this.errors.merge({ phase: how.wasReady ? 'iteration' : 'setup', message: `worker failed: ${err.message}`, code, user: `user-${first}`, count: spec.initialUsers })
  }

  #part (scenario: string | undefined): ScenarioPart | undefined {
    return scenario === undefined ? undefined : this.#parts.get(scenario)
  }

  /** the run's aggregator, and the cohort's scenario's when the run has several */
  #aggs (scenario: string | undefined): MetricsAggregator[] {
    const part = this.#part(scenario)
    return part === undefined ? [this.#agg] : [this.#agg, part.agg]
  }

  #userCounts (scenario: string | undefined): UserCounts[] {
    const part = this.#part(scenario)
    return part === undefined ? [this.users] : [this.users, part.users]
  }
}
