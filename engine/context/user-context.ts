// One virtual user: its own identity, connection, cookies, sockets and state. Never shared.
import { METRICS, taggedKey, type MetricsRecorder } from '../metrics/index.js'
import { ScenarioInvalidError } from '../errors.js'
import type { CohortIsolation, DirectoryEntry } from '../isolation/index.js'
import { arriveAndWait, joinBursts, leaveBursts, Probes, WriteLedger, type BurstOutcome } from '../probes/index.js'
import { scenarioFrame } from '../shared/index.js'
import { CookieJar } from './cookie-jar.js'
import { TagBase, UserHttp } from './http-client.js'
import type { RunView } from './run-context.js'
import { UserMetrics } from './user-metrics.js'
import { IoSocket, UserSocket, type EventExtractors, type IoEvent, type StreamProtocol, type WsMessage } from '../streams/index.js'

export interface UserContextOptions {
  /** index of the user in the run, 0-based, unique across workers */
  id: number
  runId: string
  origin: string
  timeoutMs: number
  /** response bodies: bytes kept per response, and whether to drop them once scanned */
  body: { maxBytes: number, discard: boolean }
  recorder: MetricsRecorder
  /** worker thread id and cohort running this user, for evidence and reports */
  threadId: number
  cohortId: number
  isolation: CohortIsolation
  /** the user's row of the users file (`--users-file`); none: an empty object */
  data?: Readonly<Record<string, unknown>>
  /** an error in the scenario's own code outside an iteration's await (an extractor that threw) */
  onScenarioError?: (user: string, err: Error) => void
  /** the cohort's custom metrics (shared by its users); none: this user's own, on `recorder` */
  metrics?: UserMetrics
  /** the run as users see it (`user.run.data`: what the scenario's `before` returned), frozen; shared by a cohort's users */
  run?: RunView
}

export interface WsOptions {
  /** extra handshake headers (cookies and `user.http.headers` are sent anyway) */
  headers?: Record<string, string>
  timeout?: number
  /** messages kept until consumed by next()/waitFor(); default 1000 */
  inbox?: number
  /** the channel legitimately carries other users' data: do not scan its frames for their canaries */
  shared?: boolean
  /**
   * event accounting from the scenario's reading of each frame: `stream`, `seq`, `sentAt` (any
   * subset) give latency, loss, duplicates and order for any server
   */
  events?: EventExtractors<WsMessage>
  /**
   * 'crosstalk': the fixture's stream protocol (frames with stream/seq/t; at the end the socket
   * sends `{"type":"end"}` and reconciles with the answer). Default 'none': crosstalk sends no
   * frame of its own.
   */
  protocol?: StreamProtocol
}

export interface IoOptions {
  /** the server's Socket.IO path (default '/socket.io') */
  path?: string
  /** the handshake's auth payload (`socket.handshake.auth` on the server) */
  auth?: Record<string, unknown>
  /** extra handshake headers (cookies and `user.http.headers` are sent anyway) */
  headers?: Record<string, string>
  timeout?: number
  /** events kept until consumed by next()/waitFor(); default 1000 */
  inbox?: number
  /** the namespace legitimately carries other users' data: do not scan it for their canaries */
  shared?: boolean
  /** per event name: `stream`, `seq`, `sentAt` read from the event (see `events` of user.ws()) */
  events?: Record<string, EventExtractors<IoEvent>>
  /** default ['websocket'] */
  transports?: string[]
  /** default false: a dropped socket is counted, not hidden by a reconnect */
  reconnection?: boolean
}

/** the data of a user without a users file */
const NO_DATA: Readonly<Record<string, unknown>> = Object.freeze({})
/** the run of a scenario without `before` */
const NO_RUN: RunView = Object.freeze({ data: undefined })

/**
 * `S`: the scenario's per-user state; `D`: the shape of a users file's row (CSV: every field a
 * string; JSON: any value), e.g. `UserContext<State, { email: string, password: string }>`;
 * `R`: what the scenario's run-wide `before` returns (`user.run.data`).
 */
export class UserContext<S extends object = Record<string, unknown>, D extends object = Readonly<Record<string, unknown>>, R = unknown> {
  readonly id: number
  /** stable, readable, unique in the run: `user-<id>` */
  readonly name: string
  readonly runId: string
  readonly http: UserHttp
  readonly cookies: CookieJar
  /** the scenario's per-user state */
  readonly state: S = {} as S
  /**
   * this user's row of the users file (`--users-file`), frozen: row `id % rows`, so the same row
   * whichever worker runs the user. Without a users file, an empty object.
   */
  readonly data: D
  /**
   * the run as every user sees it: `data` is what the scenario's `before` returned, structured-
   * cloned to each worker and frozen (undefined without `before`)
   */
  readonly run: RunView<R>
  readonly threadId: number
  readonly cohortId: number
  /** completed iterations of this user */
  iterations = 0
  /** the scenario's own metrics: `user.metrics.trend('write.to.event', { unit: 'ms' }).add(v)` */
  readonly metrics: UserMetrics
  readonly #opts: UserContextOptions
  // created on first use: many scenarios never open a socket, publish a resource or enter a group
  #sockets: Set<UserSocket | IoSocket> | undefined
  #resources: Record<string, string[]> | undefined
  #canaries = 0
  #probe: Probes | undefined
  #writes: WriteLedger | undefined
  #inLoad = false
  /** the scenario's tags (`defineScenario({ tags })`), on every request and group of this user */
  #scenarioTags: Readonly<Record<string, string>> | undefined
  /** the current group path (`outer::inner`), undefined outside any group */
  #group: string | undefined
  /** the tag base of each group path seen, so a request inside a group builds nothing */
  #groupBases: Map<string, TagBase> | undefined

  constructor (opts: UserContextOptions) {
    this.#opts = opts
    this.id = opts.id
    this.name = `user-${opts.id}`
    this.runId = opts.runId
    this.threadId = opts.threadId
    this.cohortId = opts.cohortId
    this.data = (opts.data ?? NO_DATA) as D
    this.run = (opts.run ?? NO_RUN) as RunView<R>
    this.cookies = new CookieJar()
    this.metrics = opts.metrics ?? new UserMetrics(opts.recorder)
    const iso = opts.isolation
    this.http = new UserHttp({
      origin: opts.origin,
      timeoutMs: opts.timeoutMs,
      body: opts.body,
      jar: this.cookies,
      recorder: opts.recorder,
      inspect: (method, path, rawHeaders, body) => iso.inspectResponse(this, method, path, rawHeaders, body)
    })
  }

  /**
   * A marker owned by this user (`ctk_<run>_<id>_<label>_<mac>`): put it in what the user writes;
   * if it ever reaches another user, that is an isolation violation. Labels: [a-z0-9-]{1,32}.
   */
  canary (label?: string): string {
    return this.#opts.isolation.canary(this.id, label ?? `c${++this.#canaries}`)
  }

  /** Publishes a resource this user owns, so other users' probes can try to reach it. */
  own (kind: string, id: string | number): void {
    ((this.#resources ??= {})[kind] ??= []).push(String(id))
  }

  /** Probes that must be denied: another user's resources, this user's resources as another user. */
  get probe (): Probes {
    this.#probe ??= new Probes(this, this.#opts.isolation, () => this.#resources ?? {})
    return this.#probe
  }

  /** Read-your-writes ledger: `record` what was written, `verify` what is read back. */
  get writes (): WriteLedger {
    this.#writes ??= new WriteLedger(this, this.#opts.isolation)
    return this.#writes
  }

  /**
   * Waits until every user in the load phase (on every worker thread) reached the barrier of this
   * name, then all continue at the same instant. A missing user breaks it after `timeout` ms.
   */
  async barrier (name: string, options: { timeout?: number } = {}): Promise<BurstOutcome> {
    const iso = this.#opts.isolation
    const outcome = await arriveAndWait(iso.control, name, options.timeout ?? iso.barrierTimeoutMs)
    if (outcome === 'timeout') this.#opts.recorder.count(METRICS.barrierTimeouts)
    return outcome
  }

  /**
   * @internal the engine marks the user's load phase (burst barrier parties). Users active at the
   * start were counted by the main thread; one that joins later (`join`) counts itself.
   */
  enterLoad (join = false): void {
    if (this.#inLoad) return
    if (join) joinBursts(this.#opts.isolation.control)
    this.#inLoad = true
  }

  /** @internal */
  leaveLoad (): void {
    if (!this.#inLoad) return
    this.#inLoad = false
    leaveBursts(this.#opts.isolation.control)
  }

  /** @internal what other users' probes may use: published resources and credentials */
  directoryEntry (): DirectoryEntry {
    const credentials: Record<string, string> = { ...this.http.headers }
    const cookie = this.cookies.header
    if (cookie !== undefined) credentials.cookie = cookie
    return { user: this.id, thread: this.threadId, resources: this.#resources ?? {}, credentials }
  }

  /** Opens a WebSocket to `path` on the target with this user's cookies and headers. */
  async ws (path: string, options: WsOptions = {}): Promise<UserSocket> {
    const url = new URL(path, this.#opts.origin)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const iso = this.#opts.isolation
    const channel = url.pathname
    const socket = await UserSocket.connect(url.href, this.#handshakeHeaders(options.headers), {
      timeoutMs: options.timeout ?? this.#opts.timeoutMs,
      inboxLimit: options.inbox ?? 1000,
      recorder: this.#opts.recorder,
      protocol: options.protocol ?? 'none',
      extractors: options.events,
      onScenarioError: err => this.#scenarioError(err),
      ...(options.shared !== true && { onFrame: (m) => iso.inspectFrame(this, channel, m.decodedText ?? m.data) })
    })
    this.#track(socket)
    return socket
  }

  /**
   * Connects a Socket.IO client to `namespace` (default '/') on the target, with this user's
   * cookies, headers and `auth` payload: its own client and Manager, never shared with another
   * user. Needs socket.io-client installed (CT_ERR_DEPENDENCY otherwise).
   */
  async io (namespace = '/', options: IoOptions = {}): Promise<IoSocket> {
    const url = new URL(namespace, this.#opts.origin)
    const iso = this.#opts.isolation
    const channel = `socket.io${url.pathname}`
    const socket = await IoSocket.connect(url.href, {
      path: options.path ?? '/socket.io',
      headers: this.#handshakeHeaders(options.headers),
      ...(options.auth !== undefined && { auth: options.auth }),
      transports: options.transports ?? ['websocket'],
      reconnection: options.reconnection ?? false
    }, {
      timeoutMs: options.timeout ?? this.#opts.timeoutMs,
      inboxLimit: options.inbox ?? 1000,
      recorder: this.#opts.recorder,
      ...(options.events !== undefined && { extractors: options.events }),
      onScenarioError: err => this.#scenarioError(err),
      ...(options.shared !== true && { onPayload: (event, payload) => iso.inspectFrame(this, `${channel} ${event}`, payload) })
    })
    this.#track(socket)
    return socket
  }

  #track (socket: UserSocket | IoSocket): void {
    this.#sockets ??= new Set()
    this.#sockets.add(socket)
  }

  #handshakeHeaders (extra: Record<string, string> | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...this.http.headers, ...extra }
    const cookie = this.cookies.header
    if (cookie !== undefined) headers.cookie = cookie
    return headers
  }

  #scenarioError (err: Error): void {
    this.#opts.recorder.count(METRICS.errors)
    this.#opts.onScenarioError?.(this.name, err)
  }

  /** Records a named check (`checks` rate, and `checks{check:<name>}`); returns `condition`. */
  check (condition: unknown, name: string): boolean {
    const ok = Boolean(condition)
    const recorder = this.#opts.recorder
    recorder.rate(METRICS.checks, ok)
    recorder.rate(taggedKey(METRICS.checks, 'check', name), ok)
    // the first failure of each check says where: who, after which request, at which line
    if (!ok && recorder.checkSamples.wants(name)) {
      const request = this.http.lastRequest
      const at = scenarioFrame(new Error())
      recorder.checkSamples.add({ check: name, user: this.name, ...(request !== undefined && { request }), ...(at !== undefined && { at }) })
    }
    return ok
  }

  /**
   * Runs `fn` as the group `name`: every request inside is tagged `group:<name>` (nested groups:
   * `outer::inner`, as k6), and its duration, whether it resolves or throws, is recorded in
   * `group.duration` and `group.duration{group:<path>}`. Returns what `fn` returns. A user's
   * groups run one after another (as k6's): two groups of one user in parallel would mix tags.
   */
  async group<T> (name: string, fn: () => T | Promise<T>): Promise<T> {
    if (typeof name !== 'string' || name === '' || name.includes('::')) {
      throw new ScenarioInvalidError(`group name must be a non-empty string without '::' (the nesting separator), got ${JSON.stringify(name)}`)
    }
    const outer = this.#group
    const path = outer === undefined ? name : `${outer}::${name}`
    const base = this.#groupBase(path)
    const recorder = this.#opts.recorder
    const set = recorder.tagged(base.tags) // checks the tags before anything runs
    this.#group = path
    this.http.tagBase = base
    const start = performance.now()
    try {
      return await fn()
    } finally {
      const ms = performance.now() - start
      recorder.trend(METRICS.groupDuration, ms)
      set.trend(METRICS.groupDuration, ms)
      this.#group = outer
      this.http.tagBase = outer === undefined ? this.#scenarioBase() : this.#groupBase(outer)
    }
  }

  /** @internal the scenario's tags, set by the engine once the scenario is loaded */
  useScenarioTags (tags: Readonly<Record<string, string>> | undefined): void {
    this.#scenarioTags = tags === undefined || Object.keys(tags).length === 0 ? undefined : tags
    this.#groupBases?.clear()
    this.http.tagBase = this.#group === undefined ? this.#scenarioBase() : this.#groupBase(this.#group)
  }

  #scenarioBase (): TagBase | undefined {
    if (this.#scenarioTags === undefined) return undefined
    const bases = this.#groupBases ??= new Map<string, TagBase>()
    let base = bases.get('')
    if (base === undefined) {
      base = new TagBase(this.#scenarioTags)
      bases.set('', base)
    }
    return base
  }

  #groupBase (path: string): TagBase {
    const bases = this.#groupBases ??= new Map<string, TagBase>()
    let base = bases.get(path)
    if (base === undefined) {
      base = new TagBase({ ...this.#scenarioTags, group: path })
      if (bases.size >= 1000) bases.clear() // group names per concrete value: the cap folds them
      bases.set(path, base)
    }
    return base
  }

  sleep (ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms))
  }

  /** @internal the sockets this user opened and has not closed yet (for the engine self-check) */
  sockets (): Array<UserSocket | IoSocket> {
    return this.#sockets === undefined ? [] : [...this.#sockets]
  }

  /**
   * @internal after the load phase: sockets on crosstalk's stream protocol end their streams and
   * reconcile (bounded by `timeoutMs`); the others finish their accounting without sending anything
   */
  async endEventStreams (timeoutMs: number): Promise<void> {
    await Promise.all(this.sockets().flatMap(s => s instanceof UserSocket ? [s.end(timeoutMs)] : []))
  }

  /** Closes this user's sockets and connection; `force` aborts whatever is in flight. */
  async close (force = false): Promise<void> {
    const sockets = this.sockets()
    this.#sockets = undefined
    if (force) for (const s of sockets) s.terminate()
    await Promise.allSettled([...(force ? [] : sockets.map(s => s.close())), this.http.close(force)])
  }
}
