// A user's WebSocket: JSON send, awaitable next()/waitFor() with timeouts, bounded inbox.
import WebSocket from 'ws'
import { TimeoutError, WebSocketError, type ErrorRequest } from '../errors.js'
import { METRICS, taggedKey, type CounterCell, type MetricsRecorder } from '../metrics/index.js'
import { redactUrl } from '../shared/index.js'
import { EventTracker, monotonicMicros, type StreamRange, type StreamTotals } from './event-tracker.js'

export class WsMessage {
  readonly data: Buffer
  readonly isBinary: boolean
  /** arrival time, microseconds of the monotonic clock (comparable with process.hrtime) */
  readonly receivedAt: number
  #json: unknown

  constructor (data: Buffer, isBinary: boolean, receivedAt: number) {
    this.data = data
    this.isBinary = isBinary
    this.receivedAt = receivedAt
  }

  text (): string {
    return this.data.toString('utf8')
  }

  json<T = unknown> (): T {
    if (this.#json === undefined) this.#json = JSON.parse(this.text())
    return this.#json as T
  }
}

export interface UserSocketOptions {
  /** Milliseconds for the handshake and the default for next()/waitFor(). */
  timeoutMs: number
  /** Messages kept while nobody awaits them; the oldest are dropped beyond this. */
  inboxLimit: number
  recorder: MetricsRecorder
  /** Called with every frame as it arrives (isolation scanning hooks in here). */
  onFrame?: (msg: WsMessage) => void
  /** account event frames (stream/seq/t) per stream; default true */
  events?: boolean
}

interface EventFrame { type?: unknown, stream?: unknown, seq?: unknown, t?: unknown, streams?: unknown }

interface Waiter {
  match: (m: WsMessage) => boolean
  resolve: (m: WsMessage) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

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
  /** Messages dropped from the inbox because nobody consumed them. */
  dropped = 0
  received = 0
  closeCode: number | undefined
  readonly #ws: WebSocket
  readonly #opts: UserSocketOptions
  // a deque: #inbox[#head..] are queued; shifting is O(1), compaction amortized
  #inbox: WsMessage[] = []
  #head = 0
  readonly #waiters = new Set<Waiter>()
  #closed: Promise<void>
  readonly #tracker: EventTracker | undefined
  readonly #messages: CounterCell
  #onEnd: ((ranges: Record<string, StreamRange>) => void) | undefined

  private constructor (ws: WebSocket, url: string, opts: UserSocketOptions) {
    this.#ws = ws
    this.url = url
    this.#opts = opts
    this.#tracker = opts.events === false ? undefined : new EventTracker(opts.recorder)
    this.#messages = opts.recorder.counter(METRICS.wsMessagesReceived)
    this.#closed = new Promise(resolve => ws.once('close', (code) => {
      this.closeCode = code
      opts.recorder.count(METRICS.wsCloses)
      opts.recorder.count(taggedKey(METRICS.wsCloses, 'code', String(code)))
      this.#failWaiters(new WebSocketError(`socket ${redactUrl(url)} closed (${code})`, { request: wsRequest(url) }))
      resolve()
    }))
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('error', () => opts.recorder.count(METRICS.wsErrors))
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

  /** The first queued or future message that `match` accepts; earlier non-matching ones stay queued. */
  waitFor (match: (m: WsMessage) => boolean, timeoutMs = this.#opts.timeoutMs): Promise<WsMessage> {
    for (let i = this.#head; i < this.#inbox.length; i++) {
      const m = this.#inbox[i]!
      if (!match(m)) continue
      if (i === this.#head) this.#head++
      else this.#inbox.splice(i, 1)
      return Promise.resolve(m)
    }
    if (this.#ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new WebSocketError(`socket ${redactUrl(this.url)} is closed`, { request: wsRequest(this.url) }))
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter)
          reject(new TimeoutError(`no matching WebSocket message within ${timeoutMs} ms on ${redactUrl(this.url)}`, { request: wsRequest(this.url) }))
        }, timeoutMs)
      }
      this.#waiters.add(waiter)
    })
  }

  /** Takes every queued message without waiting. */
  drain (): WsMessage[] {
    const out = this.#inbox.slice(this.#head)
    this.#inbox = []
    this.#head = 0
    return out
  }

  /** Messages waiting in the inbox. */
  get queued (): number {
    return this.#inbox.length - this.#head
  }

  /**
   * Ends the event streams: sends `{ type: 'end' }`, waits (bounded) for the server's
   * `{ type: 'end', streams }` and reconciles what it says it assigned with what arrived.
   * Without an answer, loss counts only the gaps seen and the streams are "unreconciled".
   */
  async end (timeoutMs = this.#opts.timeoutMs): Promise<StreamTotals> {
    const tracker = this.#tracker
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
    const msg = new WsMessage(data, isBinary, monotonicMicros())
    this.#opts.onFrame?.(msg)
    if (this.#tracker !== undefined && !isBinary && data[0] === 123 /* { */ && this.#track(msg)) return
    for (const w of this.#waiters) {
      if (w.match(msg)) {
        clearTimeout(w.timer)
        this.#waiters.delete(w)
        w.resolve(msg)
        return
      }
    }
    if (this.#opts.inboxLimit <= 0) return
    if (this.queued >= this.#opts.inboxLimit) {
      this.#head++
      this.dropped++
    }
    if (this.#head > 1024 && this.#head * 2 > this.#inbox.length) {
      this.#inbox = this.#inbox.slice(this.#head)
      this.#head = 0
    }
    this.#inbox.push(msg)
  }

  /** Accounts an event frame; true when the frame was the end-of-stream answer (consumed here). */
  #track (msg: WsMessage): boolean {
    let f: EventFrame
    try {
      f = msg.json<EventFrame>() // parsed once, cached for the scenario
    } catch {
      return false
    }
    if (typeof f !== 'object' || f === null) return false
    if (typeof f.seq === 'number' && (typeof f.stream === 'string' || typeof f.stream === 'number')) {
      this.#tracker!.onEvent(f.stream, f.seq, f.t as number, msg.receivedAt)
    } else if (f.type === 'end' && typeof f.streams === 'object' && f.streams !== null && this.#onEnd !== undefined) {
      this.#onEnd(f.streams as Record<string, StreamRange>)
      return true
    }
    return false
  }

  #failWaiters (err: Error): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer)
      w.reject(err)
    }
    this.#waiters.clear()
  }
}
