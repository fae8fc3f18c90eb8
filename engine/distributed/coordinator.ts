// `crosstalk coordinate`: releases a run's shards together. Each shard, once its users are set up,
// POSTs /ready with an HMAC proof of the run secret and is held (a long poll) until all n are;
// then every held request is answered with one start time a lead ahead, so shards whose answers
// arrive a few ms apart still start at the same wall-clock moment. Plain node:http, no framework:
// the protocol is three shapes of JSON, and every resource it holds is bounded (body size,
// connections, one held request per shard index, header and body timeouts, the whole wait).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StartError } from '../errors.js'
import { Lifecycle, type Transitions } from '../shared/index.js'
import { PROOF_HEADER, proofMatches } from './ready-proof.js'

export type CoordinatorState = 'starting' | 'listening' | 'releasing' | 'released' | 'timedOut' | 'closed'

const TRANSITIONS: Transitions<CoordinatorState> = {
  starting: ['listening', 'closed'],
  listening: ['releasing', 'timedOut', 'closed'],
  releasing: ['released'],
  released: [],
  timedOut: [],
  closed: []
}

export const COORDINATOR_DEFAULTS = { host: '127.0.0.1', port: 7070, timeoutMs: 600_000, leadMs: 500 } as const
/** a ready claim is ~80 bytes of JSON; anything near this is not a shard */
const MAX_BODY_BYTES = 4096
/** a shard sends its request at once: a slow trickle of headers or body is not a shard either */
const REQUEST_TIMEOUT_MS = 10_000
/** after the release, connections still open (a /status poller) are cut after this */
const CLOSE_GRACE_MS = 1000

export interface CoordinatorOptions {
  shards: number
  runId: string
  secret: string
  host?: string
  /** 0: a free port (see `url` once listening) */
  port?: number
  /** how long to wait for every shard to be ready */
  timeoutMs?: number
  /** how far ahead of the release the shards' start time is */
  leadMs?: number
  onEvent?: (e: CoordinatorEvent) => void
}

export type CoordinatorEvent =
  | { type: 'ready', index: number, ready: number }
  | { type: 'dropped', index: number, ready: number }
  | { type: 'released', releasedAtEpochMs: number, startAtEpochMs: number }

export interface Release { releasedAtEpochMs: number, startAtEpochMs: number, shards: number }

export interface CoordinatorStatus { runId: string, shards: number, ready: number[], state: CoordinatorState }

interface Claim { runId: string, index: number, count: number }

export class Coordinator {
  readonly lifecycle = new Lifecycle<CoordinatorState>('coordinator', 'starting', TRANSITIONS)
  /** resolves once every shard was released (the server closed); StartError on timeout or close */
  readonly done: Promise<Release>
  readonly #o: Required<Omit<CoordinatorOptions, 'onEvent'>> & Pick<CoordinatorOptions, 'onEvent'>
  readonly #server: Server
  /** the held request of each ready shard, by index: at most one each, so at most n in all */
  readonly #held = new Map<number, ServerResponse>()
  #settle!: { resolve: (r: Release) => void, reject: (e: Error) => void }
  #timer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  #url = ''

  constructor (o: CoordinatorOptions) {
    if (!Number.isInteger(o.shards) || o.shards < 1) throw new StartError(`a coordinator needs a whole number of shards, 1 or more (got ${o.shards})`)
    this.#o = { ...COORDINATOR_DEFAULTS, ...o }
    this.done = new Promise<Release>((resolve, reject) => { this.#settle = { resolve, reject } })
    this.done.catch(() => {}) // the owner awaits it; an owner that only calls close() must not crash the process
    this.#server = createServer({
      headersTimeout: REQUEST_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS, // receiving the request only: a held response is not bounded by it
      maxHeaderSize: 8192,
      // a shard whose machine vanished (no FIN) is noticed by TCP keep-alive and its index freed
      keepAlive: true,
      keepAliveInitialDelay: 10_000
    }, (req, res) => { this.#handle(req, res) })
    // every shard, a retry of each, and a few /status readers
    this.#server.maxConnections = 2 * o.shards + 16
  }

  /** Starts listening; returns the base URL (http://host:port). StartError when the port is taken. */
  async listen (): Promise<string> {
    const { host, port } = this.#o
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject)
        this.#server.listen(port, host, () => { this.#server.off('error', reject); resolve() })
      })
    } catch (err) {
      this.lifecycle.to('closed')
      const error = new StartError(`the coordinator cannot listen on ${host}:${port}: ${(err as Error).message}`, { cause: err })
      this.#settle.reject(error)
      throw error
    }
    const addr = this.#server.address() as AddressInfo
    this.#url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
    this.lifecycle.to('listening')
    this.#timer = setTimeout(() => { this.#timeOut() }, this.#o.timeoutMs)
    return this.#url
  }

  get url (): string {
    return this.#url
  }

  status (): CoordinatorStatus {
    return { runId: this.#o.runId, shards: this.#o.shards, ready: [...this.#held.keys()].sort((a, b) => a - b), state: this.lifecycle.state }
  }

  /** Stops waiting (an interrupt): held shards get 503 (they retry until their own timeout), `done` rejects. */
  async close (): Promise<void> {
    if (this.lifecycle.tryTo('closed')) {
      clearTimeout(this.#timer)
      this.#answerHeld(503, { error: 'the coordinator was stopped before every shard was ready' })
      this.#settle.reject(new StartError(`the coordinator was stopped before every shard was ready (${this.#readyText()})`))
    }
    await this.#closeServer()
  }

  #handle (req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0]
    if (path === '/status' && req.method === 'GET') return send(res, 200, this.status())
    if (path === '/ready' && req.method === 'POST') {
      readBody(req).then(body => { this.#ready(req, res, body) }, (err: Error) => { send(res, err instanceof TooLarge ? 413 : 400, { error: err.message }) })
      return
    }
    if (path === '/status' || path === '/ready') return send(res, 405, { error: `${path} does not take ${req.method}` })
    send(res, 404, { error: 'crosstalk coordinate serves POST /ready and GET /status' })
  }

  #ready (req: IncomingMessage, res: ServerResponse, body: string): void {
    const claim = parseClaim(body)
    if (typeof claim === 'string') return send(res, 400, { error: claim })
    const proof = req.headers[PROOF_HEADER]
    if (!proofMatches(typeof proof === 'string' ? proof : undefined, this.#o.secret, claim.runId, claim.index, claim.count)) {
      return send(res, 403, { error: `the proof of shard ${claim.index}/${claim.count} does not match this run's secret` })
    }
    const refusal = this.#refusal(claim)
    if (refusal !== undefined) return send(res, 409, { error: refusal })
    this.#hold(claim.index, res)
  }

  /** Why a proven claim is refused, or undefined. */
  #refusal ({ runId, index, count }: Claim): string | undefined {
    const { runId: ours, shards } = this.#o
    if (runId !== ours) return `shard ${index}/${count} is of run '${runId}', this coordinator releases run '${ours}'`
    if (count !== shards) return `shard ${index}/${count} counts ${count} shards, this coordinator releases ${shards}`
    // a held request is forgotten when its connection closes (see #hold): one still here is live,
    // so this is a second process with the same index, not a retry
    if (this.#held.has(index)) return `shard ${index}/${count} is already ready on another connection (two shards with the same index?)`
    if (!this.lifecycle.is('listening')) return `the coordinator is ${this.lifecycle.state}, no longer waiting for shards`
    return undefined
  }

  #hold (index: number, res: ServerResponse): void {
    this.#held.set(index, res)
    // a shard that dropped its connection (it died, or it retries) is not ready any more: the
    // release would not reach it; its retry registers the index again
    res.on('close', () => {
      if (this.#held.get(index) !== res || res.writableEnded) return
      this.#held.delete(index)
      this.#o.onEvent?.({ type: 'dropped', index, ready: this.#held.size })
    })
    this.#o.onEvent?.({ type: 'ready', index, ready: this.#held.size })
    if (this.#held.size === this.#o.shards) this.#release()
  }

  #release (): void {
    this.lifecycle.to('releasing')
    clearTimeout(this.#timer)
    const releasedAtEpochMs = Date.now()
    const startAtEpochMs = releasedAtEpochMs + this.#o.leadMs
    this.#answerHeld(200, { startAtEpochMs })
    this.#o.onEvent?.({ type: 'released', releasedAtEpochMs, startAtEpochMs })
    void this.#closeServer().then(() => {
      this.lifecycle.to('released')
      this.#settle.resolve({ releasedAtEpochMs, startAtEpochMs, shards: this.#o.shards })
    })
  }

  #timeOut (): void {
    if (!this.lifecycle.tryTo('timedOut')) return
    const missing = Array.from({ length: this.#o.shards }, (_v, i) => i).filter(i => !this.#held.has(i))
    const error = `no release for run '${this.#o.runId}': shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${this.#o.shards} never became ready within ${this.#o.timeoutMs / 1000}s (${this.#readyText()})`
    this.#answerHeld(504, { error })
    void this.#closeServer().then(() => { this.#settle.reject(new StartError(error)) })
  }

  #readyText (): string {
    const ready = this.status().ready
    return ready.length === 0 ? 'none ready' : `ready: ${ready.join(', ')}`
  }

  #answerHeld (status: number, body: object): void {
    for (const res of this.#held.values()) send(res, status, body)
    this.#held.clear()
  }

  /** Closes the server once; connections still open after a grace (a /status reader) are cut. */
  #closeServer (): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server.listening) { resolve(); return }
      this.#server.close(() => { clearTimeout(cut); resolve() })
      this.#server.closeIdleConnections()
      const cut = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS)
    })
    return this.#closing
  }
}

class TooLarge extends Error {}

/** The request's body as text, at most MAX_BODY_BYTES. */
function readBody (req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): void => { req.pause(); reject(new TooLarge(`a ready claim is at most ${MAX_BODY_BYTES} bytes`)) }
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) { tooLarge(); return }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) tooLarge()
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** `{ runId, shard: { index, count } }`, or what is wrong with it. */
function parseClaim (body: string): Claim | string {
  const shape = 'a ready claim is JSON { "runId": string, "shard": { "index": n, "count": n } }'
  let v: unknown
  try { v = JSON.parse(body) } catch { return shape }
  if (typeof v !== 'object' || v === null) return shape
  const { runId, shard } = v as { runId?: unknown, shard?: { index?: unknown, count?: unknown } }
  if (typeof runId !== 'string' || typeof shard !== 'object' || shard === null) return shape
  const { index, count } = shard
  if (!Number.isInteger(index) || !Number.isInteger(count)) return shape
  if ((count as number) < 1 || (index as number) < 0 || (index as number) >= (count as number)) return `shard ${String(index)}/${String(count)} is not one of ${String(count)} shards`
  return { runId, index: index as number, count: count as number }
}

/** One JSON answer; the connection closes after it (a shard asks once, or retries on a new one). */
function send (res: ServerResponse, status: number, body: object): void {
  if (res.writableEnded || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', connection: 'close' })
  res.end(text)
}
