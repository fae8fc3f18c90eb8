// The scenario contract: what each virtual user does once (setup), repeatedly (iteration), last (teardown).
import type { UserContext } from '../context/index.js'
import type { CustomMetricDefinition } from '../metrics/index.js'

type Step<S extends object, D extends object> = (user: UserContext<S, D>) => unknown

/** `S`: the per-user state (`user.state`); `D`: a users file's row (`user.data`; CSV fields are strings). */
export interface Scenario<S extends object = Record<string, unknown>, D extends object = Readonly<Record<string, unknown>>> {
  name: string
  description?: string
  /** tags on every request and group of this scenario's users (`{ team: 'shop' }` -> `http.reqs{team:shop}`) */
  tags?: Readonly<Record<string, string>>
  /** once per user, before the start barrier (login, open sockets, create data) */
  setup?: Step<S, D>
  /** repeated as the executor plans */
  iteration: Step<S, D>
  /** once per user after the load phase (logout, close) */
  teardown?: Step<S, D>
  /**
   * the scenario's own metrics, declared up front (`user.metrics.*` also creates one on first use):
   * `{ 'write.to.event': { kind: 'trend', unit: 'ms' } }`; thresholds may name a declared one
   */
  metrics?: Record<string, CustomMetricDefinition>
}

/** Identity helper that types the scenario, its per-user state and its users file's rows. */
export function defineScenario<S extends object = Record<string, unknown>, D extends object = Readonly<Record<string, unknown>>> (scenario: Scenario<S, D>): Scenario<S, D> {
  return scenario
}
