// Per-user HTTP on the user's own undici Client (one keep-alive connection, never shared).
// Uses Client.dispatch with a small handler instead of request()+body streams: undici 7 calls
// these handler methods natively (new-style handlers are wrapped), so this is its leanest path.
import { Client, type Dispatcher } from 'undici'
import { HttpRequestError, TimeoutError } from '../errors.js'
import { routeTemplate } from '../shared/index.js'
import { METRICS, taggedKey, type CounterCell, type Histogram, type MetricsRecorder, type RateCell, type TagSet } from '../metrics/index.js'
import { HttpResponse } from './http-response.js'
import { PreopenedConnector } from './preopened-connector.js'
import type { CookieJar } from './cookie-jar.js'

export interface RequestOptions {
  /** Groups this request's metrics under `http.req.duration{name:<name>}`. */
  name?: string
  /**
   * More tags for this request's metrics (`{ flow: 'checkout' }` -> `http.reqs{flow:checkout}`),
   * added to the scenario's tags and the current group; `name` wins over `tags.name`.
   */
  tags?: Readonly<Record<string, string>>
  /** Sent as JSON with content-type application/json. */
  json?: unknown
  body?: string | Buffer
  headers?: Record<string, string>
  /** Milliseconds for the whole response, headers and body; defaults to the run's request timeout. */
  timeout?: number
  /** Statuses that count as success for `http.req.failed` (default: 200-399). */
  expect?: number[]
  /** The response may legitimately carry other users' data: do not scan it for their canaries. */
  shared?: boolean
  /** Send without this user's cookies and headers (only `headers` given here), and keep no cookies from the answer. */
  anonymous?: boolean
}

export interface HttpClientOptions {
  origin: string
  timeoutMs: number
  jar: CookieJar
  recorder: MetricsRecorder
  /** body bytes kept per response (the rest is counted in http.body.discarded); discard: keep none once scanned */
  body: { maxBytes: number, discard: boolean }
  /** sees every response not marked `shared` (isolation scanning) */
  inspect?: (method: string, path: string, rawHeaders: Buffer[], body: Buffer) => void
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'CT_RESPONSE_DEADLINE'])
/** timeouts that, on a connection that never answered, mean the server did not take the connection */
const ACCEPT_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

/**
 * The tags every request of a user carries at the moment (the scenario's `tags`, the current
 * `group`), with the tag sets built from them cached per request name: a request inside a group
 * finds its cells without building a string.
 */
export class TagBase {
  readonly tags: Readonly<Record<string, string>>
  #unnamed: TagSet | undefined
  readonly #byName = new Map<string, TagSet>()

  constructor (tags: Readonly<Record<string, string>>) {
    this.tags = tags
  }

  setFor (recorder: MetricsRecorder, name: string | undefined): TagSet {
    if (name === undefined) return (this.#unnamed ??= recorder.tagged(this.tags))
    let set = this.#byName.get(name)
    if (set === undefined) {
      set = recorder.tagged({ ...this.tags, name })
      if (this.#byName.size >= 1000) this.#byName.clear() // names per concrete path: the cap folds them anyway
      this.#byName.set(name, set)
    }
    return set
  }
}

interface NamedKeys { reqs: string, duration: string, failed: string }
/** Tagged metric keys per request name, built once per name instead of three strings per request. */
const namedKeys = new Map<string, NamedKeys>()

function keysOf (name: string): NamedKeys {
  let k = namedKeys.get(name)
  if (k === undefined) {
    k = {
      reqs: taggedKey(METRICS.httpReqs, 'name', name),
      duration: taggedKey(METRICS.httpReqDuration, 'name', name),
      failed: taggedKey(METRICS.httpReqFailed, 'name', name)
    }
    namedKeys.set(name, k)
  }
  return k
}

/**
 * A transport failure as the scenario sees it: method, path and the code of what failed underneath
 * (undici's message alone, such as "other side closed", does not say which request or why).
 */
function transportError (err: Error, method: string, path: string, timeout: number): Error {
  const code = (err as { code?: string }).code
  const request = { method, path }
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TimeoutError(`${method} ${path} timed out after ${timeout} ms (${code})`, { cause: err, request })
  const causeCode = (err.cause as { code?: unknown } | undefined)?.code
  const codes = [code, causeCode].filter((c): c is string => typeof c === 'string' && !err.message.includes(c))
  return new HttpRequestError(`${method} ${path} failed: ${err.message}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`, { cause: err, request })
}
const EMPTY = Buffer.alloc(0)

type Finish = (err: Error | null, res: ResponseCollector) => void

/** Why a request was cut by its whole-response deadline (classified as CT_ERR_TIMEOUT). */
class ResponseDeadlineError extends Error {
  readonly code = 'CT_RESPONSE_DEADLINE'
}

class ResponseCollector implements Dispatcher.DispatchHandler {
  status = 0
  rawHeaders: Buffer[] = []
  chunks: Buffer[] = []
  /** body bytes kept (at most maxBytes) and received beyond them (counted, dropped) */
  kept = 0
  discarded = 0
  readonly start = performance.now()
  end = 0
  readonly finish: Finish
  readonly #maxBytes: number
  #abort: ((err?: Error) => void) | undefined
  #deadline: NodeJS.Timeout | undefined
  #timedOut: Error | undefined

  constructor (finish: Finish, maxBytes: number, timeoutMs: number) {
    this.finish = finish
    this.#maxBytes = maxBytes
    // undici's headers and body timeouts bound each wait; this bounds the whole response, so a
    // server trickling a byte a second cannot hold a user forever
    this.#deadline = setTimeout(() => this.#cut(timeoutMs), timeoutMs)
  }

  onConnect (abort: (err?: Error) => void): void {
    this.#abort = abort
    if (this.#timedOut !== undefined) abort(this.#timedOut)
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode >= 200) { // 1xx informational responses come before the real one
      this.status = statusCode
      this.rawHeaders = rawHeaders
    }
    return true
  }

  onData (chunk: Buffer): boolean {
    const room = this.#maxBytes - this.kept
    if (chunk.length <= room) {
      this.chunks.push(chunk)
      this.kept += chunk.length
    } else {
      if (room > 0) this.chunks.push(chunk.subarray(0, room))
      this.kept += Math.max(0, room)
      this.discarded += chunk.length - Math.max(0, room)
    }
    return true
  }

  onComplete (): void {
    clearTimeout(this.#deadline)
    this.end = performance.now()
    this.finish(null, this)
  }

  onError (err: Error): void {
    clearTimeout(this.#deadline)
    this.end = performance.now()
    this.finish(err, this)
  }

  #cut (timeoutMs: number): void {
    this.#timedOut = new ResponseDeadlineError(`no complete response within ${timeoutMs} ms`)
    this.#abort?.(this.#timedOut)
  }
}

/** the unnamed metrics every request records: the same cells for every user of a recorder */
interface HttpCells { reqs: CounterCell, duration: Histogram, failed: RateCell, discarded: CounterCell, acceptTimeouts: CounterCell }
const cellsByRecorder = new WeakMap<MetricsRecorder, HttpCells>()

function cellsOf (recorder: MetricsRecorder): HttpCells {
  let cells = cellsByRecorder.get(recorder)
  if (cells === undefined) {
    cells = {
      reqs: recorder.counter(METRICS.httpReqs),
      duration: recorder.histogram(METRICS.httpReqDuration),
      failed: recorder.rateCell(METRICS.httpReqFailed),
      discarded: recorder.counter(METRICS.httpBodyDiscarded),
      acceptTimeouts: recorder.counter(METRICS.httpConnectTimeouts)
    }
    cellsByRecorder.set(recorder, cells)
  }
  return cells
}

export class UserHttp {
  /** Headers sent with every request of this user (e.g. authorization). */
  readonly headers: Record<string, string> = {}
  readonly #client: Client
  readonly #opts: HttpClientOptions
  /** the unnamed metrics every request records, held so the hot path skips the lookups */
  readonly #cells: HttpCells
  readonly #connector: PreopenedConnector
  /** `#connector.opened` when a response last completed: equal means the current connection has answered */
  #answeredOn = 0
  /** the client holds an open connection (undici's connect/disconnect events) */
  #connected = false
  /** the last request sent, for where a failed check happened (kept as given: no string built per request) */
  #last: { method: string, path: string } = { method: '', path: '' }
  /** closed by force: what fails from now on was cut by the engine, not by the target */
  #aborted = false
  /** @internal the user's current scenario tags and group (undefined: none, the untagged fast path) */
  tagBase: TagBase | undefined

  constructor (opts: HttpClientOptions) {
    this.#opts = opts
    this.#cells = cellsOf(opts.recorder)
    this.#connector = new PreopenedConnector(opts.origin, opts.timeoutMs)
    this.#client = new Client(opts.origin, {
      pipelining: 1,
      connect: this.#connector.connect,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000
    })
    this.#client.on('connect', () => { this.#connected = true }).on('disconnect', () => { this.#connected = false })
  }

  get (path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request('GET', path, options)
  }

  post (path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request('POST', path, options)
  }

  put (path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request('PUT', path, options)
  }

  delete (path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request('DELETE', path, options)
  }

  request (method: Dispatcher.HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    if (path.charCodeAt(0) !== 47 /* / */) {
      return Promise.reject(new HttpRequestError(`request path must start with '/': '${path}'`))
    }
    let tagged: TagSet | undefined
    try {
      tagged = this.#tagSet(options)
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err))) // CT_ERR_SCENARIO_INVALID from checkTags
    }
    this.#last.method = method
    this.#last.path = path
    const anonymous = options.anonymous === true
    // the common case (no extra headers) builds no merged copies
    const headers: Record<string, string> = anonymous
      ? { ...options.headers }
      : options.headers === undefined && this.#noHeaders() ? {} : { ...this.headers, ...options.headers }
    const cookie = anonymous ? undefined : this.#opts.jar.header
    if (cookie !== undefined) headers.cookie = cookie
    let body: string | Buffer | null = null
    if (options.json !== undefined) {
      body = JSON.stringify(options.json)
      headers['content-type'] = 'application/json'
    } else if (options.body !== undefined) {
      body = options.body
    }
    const timeout = options.timeout ?? this.#opts.timeoutMs
    return new Promise<HttpResponse>((resolve, reject) => {
      const collector = new ResponseCollector((err, c) => {
        if (c.discarded > 0) this.#cells.discarded.value += c.discarded
        const rec = this.#opts.recorder
        const ms = c.end - c.start
        // a tag set holds the name tag too; without one, a named request records as it always has
        const named = options.name === undefined || tagged !== undefined ? undefined : keysOf(rec.names.bound(options.name))
        // a request the engine cut (interrupt, hard deadline, graceful-stop cut-off) is neither sent nor failed
        if (err !== null && this.#aborted) {
          reject(new HttpRequestError(`${method} ${path} interrupted: the run was stopped`, { cause: err, request: { method, path } }))
          return
        }
        this.#cells.reqs.value++
        if (named !== undefined) rec.count(named.reqs)
        else if (tagged !== undefined) for (const cell of tagged.counters(METRICS.httpReqs)) cell.value++
        if (err !== null) {
          this.#recordOutcome(named, tagged, false, c.end > 0 ? c.end : performance.now())
          const code = (err as { code?: string }).code
          // no answer at all on a connection that never answered: the server did not take it in time
          const unanswered = code !== undefined && (ACCEPT_TIMEOUT_CODES.has(code) || (code === 'CT_RESPONSE_DEADLINE' && c.status === 0))
          if (unanswered && this.#answeredOn !== this.#connector.opened) this.#cells.acceptTimeouts.value++
          reject(transportError(err, method, path, timeout))
          return
        }
        this.#answeredOn = this.#connector.opened
        this.#cells.duration.recordValue(ms <= 0 ? 0 : Math.round(ms * 1000)) // µs, as MetricsRecorder.trend
        if (named !== undefined) rec.trend(named.duration, ms)
        else if (tagged !== undefined) tagged.trend(METRICS.httpReqDuration, ms)
        const passed = options.expect !== undefined ? options.expect.includes(c.status) : c.status < 400
        this.#recordOutcome(named, tagged, passed, c.end)
        if (!anonymous) this.#storeCookies(c.rawHeaders)
        const body = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks)
        if (options.shared !== true) this.#opts.inspect?.(method, path, c.rawHeaders, body)
        resolve(new HttpResponse(c.status, c.rawHeaders, this.#opts.body.discard ? EMPTY : body, ms, c.discarded, method, path))
      }, this.#opts.body.maxBytes, timeout)
      this.#client.dispatch({ path, method, headers, body, headersTimeout: timeout, bodyTimeout: timeout }, collector)
    })
  }

  /** The last request this user sent, as a route (`GET /items/:id`), or undefined before any. */
  get lastRequest (): string | undefined {
    return this.#last.method === '' ? undefined : `${this.#last.method} ${routeTemplate(this.#last.path)}`
  }

  /**
   * Opens this user's connection now (the engine calls it in setup), so the load phase starts on
   * connections the server has already accepted. A no-op when one is open or waiting. A failure
   * is not the user's: its first request connects again and reports what fails then. A connect
   * timeout counts as the server not taking the connection.
   */
  async preconnect (): Promise<void> {
    if (this.#connected || this.#client.destroyed) return
    try {
      await this.#connector.open(this.#opts.origin)
    } catch (err) {
      if ((err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT') this.#cells.acceptTimeouts.value++
    }
  }

  /** Ends the connection: gracefully, or at once (in-flight requests fail) when `force`. */
  async close (force = false): Promise<void> {
    this.#connector.destroy()
    if (force) this.#aborted = true
    if (this.#client.destroyed) return
    if (force) await this.#client.destroy()
    else await this.#client.close()
  }

  #recordOutcome (named: NamedKeys | undefined, tagged: TagSet | undefined, passed: boolean, at: number): void {
    this.#opts.recorder.outcomes.mark(passed, at)
    // http.req.failed: a "pass" is a failed request (k6's share of true values)
    if (passed) this.#cells.failed.fails++
    else this.#cells.failed.passes++
    if (named !== undefined) this.#opts.recorder.rate(named.failed, !passed)
    else if (tagged !== undefined) {
      for (const cell of tagged.rates(METRICS.httpReqFailed)) {
        if (passed) cell.fails++
        else cell.passes++
      }
    }
  }

  /** The tag set of a request with tags (its own, the scenario's, a group's); undefined: only a name or none. */
  #tagSet (options: RequestOptions): TagSet | undefined {
    const base = this.tagBase
    if (options.tags === undefined) return base?.setFor(this.#opts.recorder, options.name)
    const tags: Record<string, string> = { ...base?.tags, ...options.tags }
    if (options.name !== undefined) tags.name = options.name
    return this.#opts.recorder.tagged(tags)
  }

  #noHeaders (): boolean {
    for (const _k in this.headers) return false
    return true
  }

  #storeCookies (raw: Buffer[]): void {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!
      if (name.length === 10 && name.toString('latin1').toLowerCase() === 'set-cookie') {
        this.#opts.jar.set(raw[i + 1]!.toString('latin1'))
      }
    }
  }
}
