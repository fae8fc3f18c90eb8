// The scenario contract: what each virtual user does once (setup), repeatedly (iteration), last (teardown).
import type { UserContext } from '../context/index.js'

type Step<S extends object> = (user: UserContext<S>) => unknown

export interface Scenario<S extends object = Record<string, unknown>> {
  name: string
  description?: string
  /** once per user, before the start barrier (login, open sockets, create data) */
  setup?: Step<S>
  /** repeated as the executor plans */
  iteration: Step<S>
  /** once per user after the load phase (logout, close) */
  teardown?: Step<S>
}

/** Identity helper that types the scenario and its per-user state. */
export function defineScenario<S extends object = Record<string, unknown>> (scenario: Scenario<S>): Scenario<S> {
  return scenario
}
