// What a scenario's run-wide `before` and `after` get: the run's identity and an HTTP client to
// the target, on the main thread. The client is a user's client (own undici Client, own cookie
// jar) on the origin the run already validated, so it reaches nothing the users could not; its
// requests are kept out of the run's metrics, which describe the users' load.
import { MetricsRecorder } from '../metrics/index.js'
import { CookieJar } from './cookie-jar.js'
import { UserHttp } from './http-client.js'

/** The run as `before(run)` and `after(run, data)` see it. */
export interface RunContext {
  /** the origin the users connect to (`http://127.0.0.1:3000`) */
  readonly baseUrl: string
  readonly runId: string
  /** the most users the plan can use (user ids are 0 .. users - 1) */
  readonly users: number
  /** the scenario's name */
  readonly scenario: string
  /** `get/post/put/delete(path, options)` as `user.http`: paths on the target only */
  readonly http: UserHttp
}

/** What every user sees of the run: `user.run.data`, the value `before` returned (frozen). */
export interface RunView<R = unknown> {
  readonly data: R
}

export interface RunContextOptions {
  origin: string
  runId: string
  users: number
  scenario: string
  requestTimeoutMs: number
  body: { maxBytes: number, discard: boolean }
}

/** A RunContext for one run-wide step, and its closer (`force` cuts what is still in flight). */
export function createRunContext (o: RunContextOptions): { run: RunContext, close: (force?: boolean) => Promise<void> } {
  const http = new UserHttp({
    origin: o.origin,
    timeoutMs: o.requestTimeoutMs,
    body: o.body,
    jar: new CookieJar(),
    // a recorder nobody reads: a step's requests are not load
    recorder: new MetricsRecorder(1)
  })
  const run: RunContext = Object.freeze({ baseUrl: o.origin, runId: o.runId, users: o.users, scenario: o.scenario, http })
  return { run, close: (force = false) => http.close(force) }
}
