// A user's WebSocket: JSON send, awaitable next()/waitFor() with timeouts, bounded inbox.
import WebSocket from 'ws'
import { TimeoutError, WebSocketError } from '../errors.js'
import { METRICS, type MetricsRecorder } from '../metrics/index.js'

export class WsMessage {
  readonly data: Buffer
  readonly isBinary: boolean
  /** performance.now() of this thread when the frame arrived */
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
}

interface Waiter {
  match: (m: WsMessage) => boolean
  resolve: (m: WsMessage) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export class UserSocket {
  readonly url: string
  /** Messages dropped from the inbox because nobody consumed them. */
  dropped = 0
  received = 0
  closeCode: number | undefined
  readonly #ws: WebSocket
  readonly #opts: UserSocketOptions
  readonly #inbox: WsMessage[] = []
  readonly #waiters = new Set<Waiter>()
  #closed: Promise<void>

  private constructor (ws: WebSocket, url: string, opts: UserSocketOptions) {
    this.#ws = ws
    this.url = url
    this.#opts = opts
    this.#closed = new Promise(resolve => ws.once('close', (code) => {
      this.closeCode = code
      this.#failWaiters(new WebSocketError(`socket ${url} closed (${code})`))
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
        reject(/timeout/i.test(err.message)
          ? new TimeoutError(`WebSocket ${url}: handshake timed out after ${opts.timeoutMs} ms`, { cause: err })
          : new WebSocketError(`WebSocket ${url}: ${err.message}`, { cause: err }))
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
    if (this.#ws.readyState !== WebSocket.OPEN) throw new WebSocketError(`socket ${this.url} is not open`)
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
    const i = this.#inbox.findIndex(match)
    if (i !== -1) return Promise.resolve(this.#inbox.splice(i, 1)[0]!)
    if (this.#ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new WebSocketError(`socket ${this.url} is closed`))
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter)
          reject(new TimeoutError(`no matching WebSocket message within ${timeoutMs} ms on ${this.url}`))
        }, timeoutMs)
      }
      this.#waiters.add(waiter)
    })
  }

  /** Takes every queued message without waiting. */
  drain (): WsMessage[] {
    return this.#inbox.splice(0, this.#inbox.length)
  }

  /** Closes the socket (1000), waiting a bounded time for the close handshake. */
  async close (code = 1000): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return
    this.#ws.close(code)
    const timer = setTimeout(() => this.#ws.terminate(), 1000)
    await this.#closed
    clearTimeout(timer)
  }

  terminate (): void {
    this.#ws.terminate()
  }

  #onMessage (data: Buffer, isBinary: boolean): void {
    this.received++
    this.#opts.recorder.count(METRICS.wsMessagesReceived)
    const msg = new WsMessage(data, isBinary, performance.now())
    this.#opts.onFrame?.(msg)
    for (const w of this.#waiters) {
      if (w.match(msg)) {
        clearTimeout(w.timer)
        this.#waiters.delete(w)
        w.resolve(msg)
        return
      }
    }
    if (this.#inbox.length >= this.#opts.inboxLimit) {
      this.#inbox.shift()
      this.dropped++
    }
    this.#inbox.push(msg)
  }

  #failWaiters (err: Error): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer)
      w.reject(err)
    }
    this.#waiters.clear()
  }
}
