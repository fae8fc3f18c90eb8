// One virtual user: its own identity, connection, cookies, sockets and state. Never shared.
import { METRICS, taggedKey, type MetricsRecorder } from '../metrics/index.js'
import { CookieJar } from './cookie-jar.js'
import { UserHttp } from './http-client.js'
import { UserSocket } from './user-socket.js'

export interface UserContextOptions {
  /** index of the user in the run, 0-based, unique across workers */
  id: number
  runId: string
  origin: string
  timeoutMs: number
  recorder: MetricsRecorder
  /** worker thread id and cohort running this user, for evidence and reports */
  threadId: number
  cohortId: number
}

export interface WsOptions {
  /** extra handshake headers (cookies and `user.http.headers` are sent anyway) */
  headers?: Record<string, string>
  timeout?: number
  /** messages kept until consumed by next()/waitFor(); default 1000 */
  inbox?: number
}

export class UserContext<S extends object = Record<string, unknown>> {
  readonly id: number
  /** stable, readable, unique in the run: `user-<id>` */
  readonly name: string
  readonly runId: string
  readonly http: UserHttp
  readonly cookies: CookieJar
  /** the scenario's per-user state */
  readonly state: S = {} as S
  readonly threadId: number
  readonly cohortId: number
  /** completed iterations of this user */
  iterations = 0
  readonly #opts: UserContextOptions
  readonly #sockets = new Set<UserSocket>()

  constructor (opts: UserContextOptions) {
    this.#opts = opts
    this.id = opts.id
    this.name = `user-${opts.id}`
    this.runId = opts.runId
    this.threadId = opts.threadId
    this.cohortId = opts.cohortId
    this.cookies = new CookieJar()
    this.http = new UserHttp({ origin: opts.origin, timeoutMs: opts.timeoutMs, jar: this.cookies, recorder: opts.recorder })
  }

  /** Opens a WebSocket to `path` on the target with this user's cookies and headers. */
  async ws (path: string, options: WsOptions = {}): Promise<UserSocket> {
    const url = new URL(path, this.#opts.origin)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const headers: Record<string, string> = { ...this.http.headers, ...options.headers }
    const cookie = this.cookies.header
    if (cookie !== undefined) headers.cookie = cookie
    const socket = await UserSocket.connect(url.href, headers, {
      timeoutMs: options.timeout ?? this.#opts.timeoutMs,
      inboxLimit: options.inbox ?? 1000,
      recorder: this.#opts.recorder
    })
    this.#sockets.add(socket)
    return socket
  }

  /** Records a named check (`checks` rate, and `checks{check:<name>}`); returns `condition`. */
  check (condition: unknown, name: string): boolean {
    const ok = Boolean(condition)
    this.#opts.recorder.rate(METRICS.checks, ok)
    this.#opts.recorder.rate(taggedKey(METRICS.checks, 'check', name), ok)
    return ok
  }

  sleep (ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms))
  }

  /** Closes this user's sockets and connection; `force` aborts whatever is in flight. */
  async close (force = false): Promise<void> {
    const sockets = [...this.#sockets]
    this.#sockets.clear()
    if (force) for (const s of sockets) s.terminate()
    await Promise.allSettled([...(force ? [] : sockets.map(s => s.close())), this.http.close(force)])
  }
}
