// A user's WebSocket: JSON send, awaitable next()/waitFor()/request() with timeouts, a bounded
// inbox, and event accounting declared by the scenario. crosstalk never sends a frame the
// scenario did not send, unless the socket opted into crosstalk's own stream protocol.
import WebSocket from 'ws'
import { TimeoutError, WebSocketError, type ErrorRequest } from '../errors.js'
import { METRICS, recordValueFast, taggedKey, type CounterCell, type Histogram, type MetricsRecorder } from '../metrics/index.js'
import { redactUrl } from '../shared/index.js'
import { EventTracker, monotonicMicros, type StreamRange, type StreamTotals } from './event-tracker.js'
import { ExtractedEvents, type EventExtractors } from './extractors.js'
import { Inbox } from './inbox.js'

export class WsMessage {
  readonly data: Buffer
  readonly isBinary: boolean
  /** arrival time, microseconds of the monotonic clock (comparable with process.hrtime) */
  readonly receivedAt: number
  #text: string | undefined
  #json: unknown

  constructor (data: Buffer, isBinary: boolean, receivedAt: number) {
    this.data = data
    this.isBinary = isBinary
    this.receivedAt = receivedAt
  }

  text (): string {
    // decoded once: the isolation scan and json() reuse it
    return this.#text ??= this.data.toString('utf8')
  }

  /** @internal the text when text() or json() has decoded it already (nothing is decoded for this) */
  get decodedText (): string | undefined {
    return this.#text
  }

  json<T = unknown> (): T {
    if (this.#json === undefined) this.#json = JSON.parse(this.text())
    return this.#json as T
  }
}

/**
 * How events on this socket are accounted: `none` (frames, bytes and timing only), the scenario's
 * `extractors`, or `crosstalk`, the fixture's stream protocol (frames carry `stream`, `seq`, `t`;
 * at the end the socket sends `{"type":"end"}` and reconciles with the server's answer).
 */
export type StreamProtocol = 'none' | 'crosstalk'

export interface UserSocketOptions {
  /** Milliseconds for the handshake and the default for next()/waitFor()/request(). */
  timeoutMs: number
  /** Messages kept while nobody awaits them; the oldest are dropped beyond this. */
  inboxLimit: number
  recorder: MetricsRecorder
  /**
   * Called with every frame as it arrives (isolation scanning hooks in here), after the socket's
   * own accounting: a frame that decoded already is searched as text (`decodedText`).
   */
  onFrame?: (msg: WsMessage) => void
  protocol: StreamProtocol
  extractors?: EventExtractors<WsMessage> | undefined
  /** an extractor threw: a scenario error, never a worker's */
  onScenarioError?: (err: Error) => void
}

export interface RequestOptions {
  /** ms to wait for the reply (default: the socket's timeout) */
  timeout?: number
  /** tags `ws.reply.duration{name:...}` */
  name?: string
}

interface EventFrame { type?: unknown, stream?: unknown, seq?: unknown, t?: unknown, streams?: unknown }

/** The request of a socket for error groups: WS and its path (the query may hold a token; groups drop it). */
function wsRequest (url: string, status?: number): ErrorRequest {
  const u = new URL(url)
  return { method: 'WS', path: u.pathname + u.search, ...(status !== undefined && { status }) }
}

/** A failed handshake: the URL redacted (?token=...), the status of a refused upgrade kept. */
function handshakeError (err: Error, url: string, timeoutMs: number): Error {
  const shown = redactUrl(url)
  if (/timeout/i.test(err.message)) return new TimeoutError(`WebSocket ${shown}: handshake timed out after ${timeoutMs} ms`, { cause: err, request: wsRequest(url) })
  const status = /Unexpected server response: (\d{3})/.exec(err.message)?.[1]
  return new WebSocketError(`WebSocket ${shown}: ${err.message}`, { cause: err, request: wsRequest(url, status === undefined ? undefined : Number(status)) })
}

export class UserSocket {
  readonly url: string
  received = 0
  closeCode: number | undefined
  readonly #ws: WebSocket
  readonly #opts: UserSocketOptions
  readonly #inbox: Inbox<WsMessage>
  #closed: Promise<void>
  /** the crosstalk protocol's accounting */
  readonly #protocol: EventTracker | undefined
  readonly #extracted: ExtractedEvents<WsMessage> | undefined
  readonly #messages: CounterCell
  readonly #bytes: CounterCell
  readonly #interval: Histogram
  #lastFrameAt = 0
  #onEnd: ((ranges: Record<string, StreamRange>) => void) | undefined

  private constructor (ws: WebSocket, url: string, opts: UserSocketOptions) {
    this.#ws = ws
    this.url = url
    this.#opts = opts
    this.#inbox = new Inbox<WsMessage>(opts.inboxLimit)
    const rec = opts.recorder
    this.#protocol = opts.protocol === 'crosstalk' ? new EventTracker(rec) : undefined
    this.#extracted = opts.extractors === undefined ? undefined : new ExtractedEvents(opts.extractors, new EventTracker(rec))
    this.#messages = rec.counter(METRICS.wsMessagesReceived)
    this.#bytes = rec.counter(METRICS.wsBytesReceived)
    this.#interval = rec.histogram(METRICS.wsFrameInterval)
    this.#closed = new Promise(resolve => ws.once('close', (code) => {
      this.closeCode = code
      rec.count(METRICS.wsCloses)
      rec.count(taggedKey(METRICS.wsCloses, 'code', String(code)))
      this.#inbox.failAll(new WebSocketError(`socket ${redactUrl(url)} closed (${code})`, { request: wsRequest(url) }))
      this.#extracted?.finish()
      resolve()
    }))
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('error', () => rec.count(METRICS.wsErrors))
  }

  static connect (url: string, headers: Record<string, string>, opts: UserSocketOptions): Promise<UserSocket> {
    const start = performance.now()
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: opts.timeoutMs })
      const onError = (err: Error): void => {
        opts.recorder.count(METRICS.wsErrors)
        reject(handshakeError(err, url, opts.timeoutMs))
      }
      ws.once('error', onError)
      ws.once('open', () => {
        ws.off('error', onError)
        opts.recorder.count(METRICS.wsSessions)
        opts.recorder.trend(METRICS.wsConnectDuration, performance.now() - start)
        resolve(new UserSocket(ws, url, opts))
      })
    })
  }

  get open (): boolean {
    return this.#ws.readyState === WebSocket.OPEN
  }

  /** Messages dropped from the inbox because nobody consumed them. */
  get dropped (): number {
    return this.#inbox.dropped
  }

  /** Sends a string or bytes as is, anything else as JSON text. */
  send (data: unknown): void {
    if (this.#ws.readyState !== WebSocket.OPEN) throw new WebSocketError(`socket ${redactUrl(this.url)} is not open`, { request: wsRequest(this.url) })
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data)
    this.#ws.send(payload)
    this.#opts.recorder.count(METRICS.wsMessagesSent)
  }

  /** The next message (queued or future). */
  next (timeoutMs?: number): Promise<WsMessage> {
    return this.waitFor(() => true, timeoutMs)
  }

  /**
   * The first queued or future message that `match` accepts; earlier non-matching ones stay
   * queued. Always a promise: a `match` that throws rejects this wait with its error.
   */
  waitFor (match: (m: WsMessage) => boolean, timeoutMs = this.#opts.timeoutMs): Promise<WsMessage> {
    return this.#inbox.waitFor(match, timeoutMs,
      () => this.open ? undefined : new WebSocketError(`socket ${redactUrl(this.url)} is closed`, { request: wsRequest(this.url) }),
      () => new TimeoutError(`no matching WebSocket message within ${timeoutMs} ms on ${redactUrl(this.url)}`, { request: wsRequest(this.url) }))
  }

  /**
   * Sends `message` and waits for the frame `isReply` accepts (chat, RPC over WebSocket): the time
   * in between is `ws.reply.duration` (and `{name:...}` when named). The third argument is the
   * options or, as a number, the timeout in ms.
   */
  async request (message: unknown, isReply: (m: WsMessage) => boolean, options: RequestOptions | number = {}): Promise<WsMessage> {
    const o = typeof options === 'number' ? { timeout: options } : options
    // waiting starts before the send so a reply faster than this function cannot be missed
    const reply = this.waitFor(isReply, o.timeout)
    const start = performance.now()
    try {
      this.send(message)
    } catch (err) {
      // the socket closed: the wait has failed too, and nobody will ever await it
      reply.catch(() => {})
      throw err
    }
    const m = await reply
    const took = performance.now() - start
    const rec = this.#opts.recorder
    rec.trend(METRICS.wsReplyDuration, took)
    if (o.name !== undefined) rec.trend(taggedKey(METRICS.wsReplyDuration, 'name', rec.names.bound(o.name)), took)
    return m
  }

  /** Takes every queued message without waiting. */
  drain (): WsMessage[] {
    return this.#inbox.drain()
  }

  /** Messages waiting in the inbox. */
  get queued (): number {
    return this.#inbox.queued
  }

  /**
   * Ends the socket's event accounting. Only a socket on crosstalk's protocol sends anything:
   * `{ type: 'end' }`, then it waits (bounded) for the server's `{ type: 'end', streams }` and
   * reconciles; without an answer loss counts only the gaps seen and the streams are
   * "unreconciled". Extractor-accounted sockets finish from the gaps seen, sending nothing.
   */
  async end (timeoutMs = this.#opts.timeoutMs): Promise<StreamTotals> {
    this.#extracted?.finish()
    const tracker = this.#protocol
    if (tracker === undefined) return { sent: 0, lost: 0, unreconciled: 0 }
    if (this.#ws.readyState !== WebSocket.OPEN) return tracker.reconcile(undefined)
    let timer: NodeJS.Timeout | undefined
    const ranges = await new Promise<Record<string, StreamRange> | undefined>((resolve) => {
      this.#onEnd = resolve
      timer = setTimeout(() => resolve(undefined), timeoutMs)
      this.#ws.send('{"type":"end"}')
    })
    clearTimeout(timer)
    this.#onEnd = undefined
    return tracker.reconcile(ranges)
  }

  /** Closes the socket (1000), waiting a bounded time for the close handshake. */
  async close (code = 1000): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return
    this.#ws.close(code)
    const timer = setTimeout(() => this.#ws.terminate(), 1000)
    await this.#closed
    clearTimeout(timer)
  }

  /** Stops reading from the socket (a slow consumer: the server sees backpressure). */
  pause (): void {
    this.#ws.pause()
  }

  resume (): void {
    this.#ws.resume()
  }

  terminate (): void {
    this.#ws.terminate()
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    this.received++
    this.#messages.value++
    this.#bytes.value += data.length
    const msg = new WsMessage(data, isBinary, monotonicMicros())
    if (this.#lastFrameAt !== 0) recordValueFast(this.#interval, Math.round(msg.receivedAt - this.#lastFrameAt))
    this.#lastFrameAt = msg.receivedAt
    const ended = this.#protocol !== undefined && !isBinary && data[0] === 123 /* { */ && this.#track(msg)
    if (!ended && this.#extracted !== undefined) {
      const failed = this.#extracted.observe(msg, msg.receivedAt)
      if (failed !== undefined) this.#opts.onScenarioError?.(failed)
    }
    // scanned after the accounting (synchronously, before anything can observe the frame): what
    // the protocol or the extractors parsed is searched as that string, without a native call
    this.#opts.onFrame?.(msg)
    if (!ended) this.#inbox.deliver(msg)
  }

  /** crosstalk protocol: accounts an event frame; true when the frame was the end-of-stream answer (consumed here). */
  #track (msg: WsMessage): boolean {
    let f: EventFrame
    try {
      f = msg.json<EventFrame>() // parsed once, cached for the scenario
    } catch {
      return false
    }
    if (typeof f !== 'object' || f === null) return false
    if (typeof f.seq === 'number' && (typeof f.stream === 'string' || typeof f.stream === 'number')) {
      this.#protocol!.onEvent(f.stream, f.seq, typeof f.t === 'number' ? f.t : undefined, msg.receivedAt)
    } else if (f.type === 'end' && typeof f.streams === 'object' && f.streams !== null && this.#onEnd !== undefined) {
      this.#onEnd(f.streams as Record<string, StreamRange>)
      return true
    }
    return false
  }
}
