// A user's Socket.IO connection on socket.io-client (an optional dependency, imported on first
// use): one client per user with its own Manager (never shared: that would share its transport),
// its own cookies, headers and auth payload. The library answers the server's pings, so sockets
// live through long runs. Every message the connection receives is handed to the scanner as it
// arrives, undecoded (IoPacketScan), and every ack reply once decoded; events can be awaited like
// WebSocket frames and accounted with extractors per event name.
import { MissingDependencyError, TimeoutError, WebSocketError } from '../errors.js'
import { METRICS, taggedKey, type CounterCell, type MetricsRecorder } from '../metrics/index.js'
import { EventTracker, monotonicMicros } from './event-tracker.js'
import { ExtractedEvents, type EventExtractors } from './extractors.js'
import { Inbox } from './inbox.js'
import { IoPacketScan } from './io-packet-scan.js'
import { redactUrl } from '../shared/index.js'

/** One Socket.IO event as received. */
export interface IoEvent {
  event: string
  args: unknown[]
  /** the first argument, the usual payload */
  data: unknown
  /** arrival, microseconds of the monotonic clock */
  receivedAt: number
}

export interface IoSocketOptions {
  /** connect timeout and the default for next()/waitFor()/emitWithAck() */
  timeoutMs: number
  /** events kept while nobody awaits them (0: none) */
  inboxLimit: number
  recorder: MetricsRecorder
  /** every message received (a packet's text or a binary attachment) and every ack, for isolation scanning */
  onPayload?: (event: string, payload: string | Buffer) => void
  /** per event name: stream accounting (latency, loss, duplicates, order) */
  extractors?: Record<string, EventExtractors<IoEvent>>
  /** an extractor threw: a scenario error, never a worker's */
  onScenarioError?: (err: Error) => void
}

/** What a connection is made with (socket.io-client's options we pass through). */
export interface IoConnectOptions {
  /** the server's Socket.IO path (default '/socket.io') */
  path: string
  headers: Record<string, string>
  auth?: Record<string, unknown>
  /** default ['websocket']: polling would need sticky sessions and doubles the connections */
  transports: string[]
  /** default false: a dropped socket is counted and stays dropped instead of hiding behind a reconnect */
  reconnection: boolean
}

/** The part of socket.io-client's Socket this class uses (the library's types stay out of ours). */
interface ClientSocket {
  id?: string
  connected: boolean
  on: (event: string, listener: (...args: never[]) => void) => unknown
  once: (event: string, listener: (...args: never[]) => void) => unknown
  onAny: (listener: (event: string, ...args: unknown[]) => void) => unknown
  offAny: (listener: (event: string, ...args: unknown[]) => void) => unknown
  emit: (event: string, ...args: unknown[]) => unknown
  timeout: (ms: number) => { emitWithAck: (event: string, ...args: unknown[]) => Promise<unknown> }
  disconnect: () => unknown
  io: {
    engine?: { close: () => void, on: (event: 'data', listener: (data: unknown) => void) => unknown }
    on: (event: 'open', listener: () => void) => unknown
  }
}
type ClientFactory = (url: string, options: Record<string, unknown>) => ClientSocket

/** `{ timeout: ms }` and nothing else, as the last argument of emitWithAck: the ack's timeout */
function isAckOptions (a: unknown): a is { timeout: number } {
  if (typeof a !== 'object' || a === null || Object.getPrototypeOf(a) !== Object.prototype) return false
  const keys = Object.keys(a)
  return keys.length === 1 && keys[0] === 'timeout' && typeof (a as { timeout: unknown }).timeout === 'number'
}

const factories = new Map<string, Promise<ClientFactory>>()

/**
 * socket.io-client's `io`, imported on first use (it is an optional dependency). `specifier` is
 * the package's name; a test points it at a module that does not exist.
 */
export function loadIoClient (specifier = 'socket.io-client'): Promise<ClientFactory> {
  let factory = factories.get(specifier)
  if (factory === undefined) {
    factory = (import(specifier) as Promise<{ io: unknown }>).then(
      m => m.io as ClientFactory,
      (err: unknown) => {
        factories.delete(specifier) // installed later in a long-lived process: the next call finds it
        throw new MissingDependencyError(`user.io() needs ${specifier}: npm install ${specifier}`, { cause: err })
      }
    )
    factories.set(specifier, factory)
  }
  return factory
}

export class IoSocket {
  readonly url: string
  readonly #socket: ClientSocket
  readonly #o: IoSocketOptions
  readonly #inbox: Inbox<IoEvent>
  readonly #received: CounterCell
  readonly #extracted = new Map<string, ExtractedEvents<IoEvent>>()
  /** the per-event-name counters, held so an event costs no key building or lookup by name */
  readonly #receivedBy = new Map<string, CounterCell>()
  readonly #sentBy = new Map<string, CounterCell>()
  readonly #sent: CounterCell
  /** the last event name received, its counter and extractors: a socket mostly receives one name after another */
  #lastEvent: string | undefined
  #lastReceived: CounterCell | undefined
  #lastExtracted: ExtractedEvents<IoEvent> | undefined
  #disconnectReason: string | undefined
  #closed: Promise<void>

  private constructor (socket: ClientSocket, url: string, o: IoSocketOptions, early: Array<[string, unknown[]]>) {
    this.#socket = socket
    this.url = url
    this.#o = o
    this.#inbox = new Inbox<IoEvent>(o.inboxLimit)
    this.#received = o.recorder.counter(METRICS.ioEventsReceived)
    this.#sent = o.recorder.counter(METRICS.ioEventsSent)
    for (const [event, x] of Object.entries(o.extractors ?? {})) this.#extracted.set(event, new ExtractedEvents(x, new EventTracker(o.recorder)))
    this.#closed = new Promise(resolve => socket.once('disconnect', (reason: string) => {
      this.#disconnectReason = reason
      o.recorder.count(METRICS.ioDisconnects)
      o.recorder.count(taggedKey(METRICS.ioDisconnects, 'reason', reason))
      this.#inbox.failAll(new WebSocketError(`Socket.IO ${url} disconnected (${reason})`))
      resolve()
    }))
    for (const [event, args] of early) this.#onEvent(event, args)
    socket.onAny((event, ...args) => this.#onEvent(event, args))
  }

  static async connect (url: string, c: IoConnectOptions, o: IoSocketOptions): Promise<IoSocket> {
    const io = await loadIoClient()
    const start = performance.now()
    const socket = io(url, {
      path: c.path,
      forceNew: true,
      multiplex: false,
      transports: c.transports,
      reconnection: c.reconnection,
      timeout: o.timeoutMs,
      extraHeaders: c.headers,
      ...(c.auth !== undefined && { auth: c.auth })
    })
    const onPayload = o.onPayload
    if (onPayload !== undefined) {
      // the raw messages, before decoding: on every (re)connection's engine, listening before the
      // Manager does (it subscribes after emitting 'open'), so each is scanned before it is delivered
      const scan = new IoPacketScan(onPayload)
      socket.io.on('open', () => socket.io.engine?.on('data', data => scan.onMessage(data)))
    }
    // events a server emits on connection can arrive in the same turn as the connect, before
    // this function resumes: they are kept from the start and handed over in order
    const early: Array<[string, unknown[]]> = []
    const keep = (event: string, ...args: unknown[]): void => { early.push([event, args]) }
    socket.onAny(keep)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new TimeoutError(`Socket.IO ${url}: no connection within ${o.timeoutMs} ms`)), o.timeoutMs)
      const fail = (err: Error): void => {
        clearTimeout(timer)
        o.recorder.count(METRICS.ioErrors)
        socket.disconnect()
        reject(err)
      }
      socket.once('connect_error', (err: Error) => fail(new WebSocketError(`Socket.IO ${url}: ${err.message}`, { cause: err })))
      socket.once('connect', () => { clearTimeout(timer); resolve() })
    })
    socket.offAny(keep)
    o.recorder.count(METRICS.ioSessions)
    o.recorder.trend(METRICS.ioConnectDuration, performance.now() - start)
    return new IoSocket(socket, url, o, early)
  }

  get connected (): boolean {
    return this.#socket.connected
  }

  /** the server's id for this socket */
  get id (): string | undefined {
    return this.#socket.id
  }

  emit (event: string, ...args: unknown[]): void {
    if (!this.#socket.connected) throw new WebSocketError(`Socket.IO ${this.url} is not connected (${this.#disconnectReason ?? 'never connected'})`)
    this.#socket.emit(event, ...args)
    this.#countSent(event)
  }

  /**
   * Emits and awaits the server's ack (`io.ack.duration{event:...}`); the ack is scanned like an
   * event. A last argument that is a plain object with exactly one key, a numeric `timeout`
   * (`emitWithAck('join', room, { timeout: 500 })`), is the ack's timeout in ms and is not sent;
   * to send such an object, use `timeout(ms).emitWithAck(...)`, which sends every argument.
   */
  async emitWithAck (event: string, ...args: unknown[]): Promise<unknown> {
    const last = args.at(-1)
    if (isAckOptions(last)) return await this.#ack(last.timeout, event, args.slice(0, -1))
    return await this.#ack(this.#o.timeoutMs, event, args)
  }

  /** socket.io's own form: `socket.timeout(2000).emitWithAck('join', room)`. */
  timeout (ms: number): { emitWithAck: (event: string, ...args: unknown[]) => Promise<unknown> } {
    return { emitWithAck: (event, ...args) => this.#ack(ms, event, args) }
  }

  /** The next event (of this name, when given), queued or future. */
  next (event?: string, timeoutMs?: number): Promise<IoEvent> {
    return this.waitFor(event, undefined, timeoutMs)
  }

  /** The first queued or future event (of this name) that `match` accepts; always a promise. */
  waitFor (event: string | undefined, match?: (e: IoEvent) => boolean, timeoutMs = this.#o.timeoutMs): Promise<IoEvent> {
    const wanted = (e: IoEvent): boolean => (event === undefined || e.event === event) && (match === undefined || match(e))
    return this.#inbox.waitFor(wanted, timeoutMs,
      () => this.#socket.connected ? undefined : new WebSocketError(`Socket.IO ${redactUrl(this.url)} is disconnected`),
      () => new TimeoutError(`no matching Socket.IO event${event === undefined ? '' : ` '${event}'`} within ${timeoutMs} ms on ${redactUrl(this.url)}`))
  }

  /** Takes every queued event without waiting. */
  drain (): IoEvent[] {
    return this.#inbox.drain()
  }

  get queued (): number {
    return this.#inbox.queued
  }

  /** Disconnects (the server sees `client namespace disconnect`), bounded. */
  async close (): Promise<void> {
    if (this.#disconnectReason !== undefined) return this.#finish()
    this.#socket.disconnect()
    await this.#closed
    this.#finish()
  }

  /** Drops the transport at once (an abort). */
  terminate (): void {
    this.#socket.io.engine?.close()
    this.#socket.disconnect()
    this.#finish()
  }

  #finish (): void {
    for (const x of this.#extracted.values()) x.finish()
  }

  async #ack (ms: number, event: string, args: unknown[]): Promise<unknown> {
    if (!this.#socket.connected) throw new WebSocketError(`Socket.IO ${this.url} is not connected (${this.#disconnectReason ?? 'never connected'})`)
    const start = performance.now()
    this.#countSent(event)
    let reply: unknown
    try {
      reply = await this.#socket.timeout(ms).emitWithAck(event, ...args)
    } catch (err) {
      this.#o.recorder.count(METRICS.ioErrors)
      throw new TimeoutError(`Socket.IO ${this.url}: no ack for '${event}' within ${ms} ms`, { cause: err })
    }
    const rec = this.#o.recorder
    const took = performance.now() - start
    rec.trend(METRICS.ioAckDuration, took)
    rec.trend(taggedKey(METRICS.ioAckDuration, 'event', event), took)
    this.#scanAck(event, reply)
    return reply
  }

  #countSent (event: string): void {
    this.#sent.value++
    this.#cell(this.#sentBy, METRICS.ioEventsSent, event).value++
  }

  #cell (cells: Map<string, CounterCell>, metric: string, event: string): CounterCell {
    let cell = cells.get(event)
    if (cell === undefined) {
      cell = this.#o.recorder.counter(taggedKey(metric, 'event', event))
      cells.set(event, cell)
    }
    return cell
  }

  #onEvent (event: string, args: unknown[]): void {
    this.#received.value++
    if (event !== this.#lastEvent || this.#lastReceived === undefined) {
      this.#lastEvent = event
      this.#lastReceived = this.#cell(this.#receivedBy, METRICS.ioEventsReceived, event)
      this.#lastExtracted = this.#extracted.get(event)
    }
    this.#lastReceived.value++
    // already scanned as it arrived (IoPacketScan)
    const e: IoEvent = { event, args, data: args[0], receivedAt: monotonicMicros() }
    const failed = this.#lastExtracted?.observe(e, e.receivedAt)
    if (failed !== undefined) this.#o.onScenarioError?.(failed)
    this.#inbox.deliver(e)
  }

  /** An ack's packet carries only its id: its reply is scanned here, under the event it answers. */
  #scanAck (event: string, reply: unknown): void {
    const onPayload = this.#o.onPayload
    if (onPayload === undefined || reply === undefined || reply === null) return
    onPayload(event, typeof reply === 'string' || Buffer.isBuffer(reply) ? reply : JSON.stringify(reply))
  }
}
