// The scenario contract: what each virtual user does once (setup), repeatedly (iteration), last
// (teardown), and what the run does once around all users (before, after).
import type { RunContext, UserContext } from '../context/index.js'
import type { CustomMetricDefinition } from '../metrics/index.js'

type Step<S extends object, D extends object, R = unknown> = (user: UserContext<S, D, R>) => unknown

/**
 * `S`: the per-user state (`user.state`); `D`: a users file's row (`user.data`; CSV fields are
 * strings); `R`: what `before` returns (`user.run.data`, and `after`'s second argument).
 */
export interface Scenario<S extends object = Record<string, unknown>, D extends object = Readonly<Record<string, unknown>>, R = unknown> {
  name: string
  description?: string
  /** tags on every request and group of this scenario's users (`{ team: 'shop' }` -> `http.reqs{team:shop}`) */
  tags?: Readonly<Record<string, string>>
  /**
   * once per run, on the main thread, before any user is set up: create what every user needs
   * through `run.http`; the value returned (structured-cloneable) is `user.run.data`
   */
  before?: (run: RunContext) => R | Promise<R>
  /** once per user, before the start barrier (login, open sockets, create data) */
  setup?: Step<S, D, R>
  /** repeated as the executor plans */
  iteration: Step<S, D, R>
  /** once per user after the load phase (logout, close) */
  teardown?: Step<S, D, R>
  /** once per run after every user was torn down (also after an early stop), when `before` succeeded */
  after?: (run: RunContext, data: R) => unknown
  /**
   * the scenario's own metrics, declared up front (`user.metrics.*` also creates one on first use):
   * `{ 'write.to.event': { kind: 'trend', unit: 'ms' } }`; thresholds may name a declared one
   */
  metrics?: Record<string, CustomMetricDefinition>
}

/** Identity helper that types the scenario, its per-user state, its users file's rows and its run data. */
export function defineScenario<S extends object = Record<string, unknown>, D extends object = Readonly<Record<string, unknown>>, R = unknown> (scenario: Scenario<S, D, R>): Scenario<S, D, R> {
  return scenario
}
