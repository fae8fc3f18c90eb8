// A small DevTools-protocol client over `ws` for a Node process started with
// --inspect=127.0.0.1:<port>: enough for GC, heap readings, heap profiles and CPU profiles.
// Loopback only, every call bounded by a timeout.
import WebSocket from 'ws'
import { request } from 'undici'
import { ConfigError, TargetUnreachableError, TimeoutError } from '../errors.js'
import { isLoopbackHost } from '../shared/index.js'

interface Pending { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout, method: string }

export class DevToolsClient {
  readonly url: string
  readonly #ws: WebSocket
  readonly #pending = new Map<number, Pending>()
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>()
  #nextId = 1

  private constructor (ws: WebSocket, url: string) {
    this.#ws = ws
    this.url = url
    ws.on('message', (data: Buffer) => this.#onMessage(data))
    ws.on('close', () => {
      for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(new TargetUnreachableError(`inspector closed during ${p.method}`)) }
      this.#pending.clear()
    })
  }

  /** `host:port` of an inspector (or a ws:// debugger URL) -> connected client. */
  static async connect (target: string, timeoutMs = 5000): Promise<DevToolsClient> {
    const wsUrl = target.startsWith('ws://') ? target : await debuggerUrl(target, timeoutMs)
    const host = new URL(wsUrl).hostname
    if (!isLoopbackHost(host)) throw new ConfigError(`inspector ${host} is not a loopback address: crosstalk only inspects processes on this machine`)
    return await new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 2 ** 30 })
      ws.once('open', () => resolve(new DevToolsClient(ws, wsUrl)))
      ws.once('error', (err) => reject(new TargetUnreachableError(`inspector ${wsUrl}: ${err.message}`, { cause: err })))
    })
  }

  send<T = unknown> (method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new TimeoutError(`inspector call ${method} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method })
      this.#ws.send(JSON.stringify({ id, method, params }))
    })
  }

  on (event: string, listener: (params: unknown) => void): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) { set = new Set(); this.#listeners.set(event, set) }
    set.add(listener)
    return () => set.delete(listener)
  }

  close (): void {
    this.#ws.close()
  }

  #onMessage (data: Buffer): void {
    const msg = JSON.parse(data.toString('utf8')) as { id?: number, result?: unknown, error?: { message: string }, method?: string, params?: unknown }
    if (msg.id !== undefined) {
      const p = this.#pending.get(msg.id)
      if (p === undefined) return
      this.#pending.delete(msg.id)
      clearTimeout(p.timer)
      if (msg.error !== undefined) p.reject(new Error(`${p.method}: ${msg.error.message}`))
      else p.resolve(msg.result)
    } else if (msg.method !== undefined) {
      for (const l of this.#listeners.get(msg.method) ?? []) l(msg.params)
    }
  }
}

/** GET http://host:port/json/list -> the first target's webSocketDebuggerUrl. */
export async function debuggerUrl (hostPort: string, timeoutMs = 5000): Promise<string> {
  let url: URL
  try {
    url = new URL(`http://${hostPort}`)
  } catch {
    throw new ConfigError(`inspector address '${hostPort}' is not host:port (e.g. 127.0.0.1:9229)`)
  }
  if (!isLoopbackHost(url.hostname)) throw new ConfigError(`inspector ${url.hostname} is not a loopback address: crosstalk only inspects processes on this machine`)
  try {
    const res = await request(new URL('/json/list', url), { headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    const targets = await res.body.json() as Array<{ webSocketDebuggerUrl?: string }>
    const ws = targets.find(t => t.webSocketDebuggerUrl !== undefined)?.webSocketDebuggerUrl
    if (ws === undefined) throw new Error('no debuggable target listed')
    return ws
  } catch (err) {
    throw new TargetUnreachableError(`no inspector at ${hostPort}: ${(err as Error).message}`, { cause: err })
  }
}
