// What the main thread adds up from every cohort: metric ticks, readiness, final results and
// failures. One object per run, fed by the cohort trackers.
import type { DirectoryEntry, IsolationAggregator } from '../isolation/index.js'
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import { WorkerError } from '../errors.js'
import { ErrorGroups } from './error-groups.js'
import type { CohortResult, CohortSpec, ReadyMessage, TickMessage } from './messages.js'

export interface UserCounts { planned: number, allocated: number, completed: number, lost: number, interrupted: number, setupFailed: number }

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

  constructor (planned: number, agg: MetricsAggregator, isolation: IsolationAggregator, tickMs: number) {
    this.users = { planned, allocated: 0, completed: 0, lost: 0, interrupted: 0, setupFailed: 0 }
    this.#agg = agg
    this.#isolation = isolation
    this.#tickMs = tickMs
  }

  ready (m: ReadyMessage): void {
    this.threads.add(m.threadId)
    this.users.setupFailed += m.setupFailed
    for (const e of m.directory) this.directory.push(e)
  }

  tick (source: string, m: TickMessage): void {
    const now = performance.now()
    this.threads.add(m.threadId)
    // counted in the middle of the interval the tick covers, not when it happened to arrive
    this.#agg.add(m.delta, source, m.coversUntilEpochMs === undefined ? now : m.coversUntilEpochMs - performance.timeOrigin - this.#tickMs / 2)
    this.#agg.setGauge(METRICS.usersActive, source, m.active, now)
    for (const g of m.errors) this.errors.merge(g)
    this.#isolation.add(m.violations)
  }

  settled (source: string, res: CohortResult): void {
    const now = performance.now()
    this.threads.add(res.threadId)
    this.#agg.add(res.delta, source, now)
    this.#agg.setGauge(METRICS.usersActive, source, 0, now)
    for (const g of res.errors) this.errors.merge(g)
    this.#isolation.add(res.violations)
    const u = this.users
    u.allocated += res.allocated
    u.completed += res.completed
    u.lost += res.lost
    u.interrupted += res.interrupted
    if (res.loadEndedEpochMs !== null) this.loadEndedAt = Math.max(this.loadEndedAt ?? -Infinity, res.loadEndedEpochMs - performance.timeOrigin)
    this.selfCheck.checked += res.selfCheck.checked
    this.selfCheck.retained += res.selfCheck.retained
  }

  /** A task that failed: after an abort its users were interrupted; otherwise lost, never counted as success. */
  failed (source: string, spec: CohortSpec, err: Error, how: { aborted: boolean, wasReady: boolean }): void {
    this.#agg.setGauge(METRICS.usersActive, source, 0, performance.now())
    this.users.allocated += spec.initialUsers
    if (how.aborted) {
      this.users.interrupted += spec.initialUsers
      return
    }
    this.users.lost += spec.initialUsers
    this.failures.push(`cohort ${spec.id} (users ${spec.firstUser}-${spec.firstUser + spec.size - 1}): ${err.message}`)
    const code = new WorkerError(err.message).code
    this.errors.merge({ phase: how.wasReady ? 'iteration' : 'setup', message: `worker failed: ${err.message}`, code, user: `user-${spec.firstUser}`, count: spec.initialUsers })
  }
}
