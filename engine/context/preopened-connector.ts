// A user's HTTP connection opened before the load: `open()` runs in setup, paced with the other
// setups, and the user's first request takes the waiting socket. Without it, a scenario with no
// request in setup opens every user's connection in the instant the start barrier opens, and a
// server with Node's default listen backlog (511) drops the connects it cannot accept in time.
import type { Socket } from 'node:net'
import { buildConnector } from 'undici'

type ConnectOptions = buildConnector.Options
type Connect = (options: ConnectOptions, callback: buildConnector.Callback) => void

const ignore = (): void => {}

/**
 * undici's connector per connect timeout, for plain-HTTP origins: one per thread instead of one
 * per user (~630 bytes each, most of it a TLS session cache that plain TCP never uses). An https
 * origin keeps one per user, so no TLS session is resumed across users, as with separate clients.
 */
const plainConnectors = new Map<number, buildConnector.connector>()

function baseConnector (origin: string, timeoutMs: number): buildConnector.connector {
  if (origin.startsWith('https:')) return buildConnector({ timeout: timeoutMs })
  let base = plainConnectors.get(timeoutMs)
  if (base === undefined) {
    base = buildConnector({ timeout: timeoutMs })
    plainConnectors.set(timeoutMs, base)
  }
  return base
}

export class PreopenedConnector {
  readonly #base: buildConnector.connector
  #parked: Socket | undefined
  /** connections opened, by open() or on demand; the first request on each is "fresh" */
  opened = 0

  constructor (origin: string, timeoutMs: number) {
    this.#base = baseConnector(origin, timeoutMs)
  }

  /** undici's `connect` option: the parked socket when it is still open, else a new connection. */
  readonly connect: Connect = (options, callback) => {
    const parked = this.#take()
    if (parked !== undefined) {
      // asynchronously, as a real connect answers: undici's Client resumes from this callback
      process.nextTick(callback, null, parked)
      return
    }
    this.opened++
    this.#base(options, callback)
  }

  /** Opens the connection now; resolves once connected (or rejects as a request's connect would). */
  async open (origin: string): Promise<void> {
    if (this.#parked !== undefined) return
    const url = new URL(origin)
    // as undici's Client does: an IPv6 literal without its brackets
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const socket = await new Promise<Socket>((resolve, reject) => {
      this.#base({ host: url.host, hostname, protocol: url.protocol, port: url.port, servername: null, localAddress: null } as unknown as ConnectOptions, (err, s) => {
        if (err !== null) reject(err)
        else resolve(s)
      })
    })
    this.opened++
    // parked: a reset while it waits must not throw, and a closed one is simply not used
    socket.on('error', ignore)
    this.#parked = socket
  }

  /** Closes a connection that no request took (the scenario made no HTTP request). */
  destroy (): void {
    this.#take()?.destroy()
  }

  #take (): Socket | undefined {
    const s = this.#parked
    this.#parked = undefined
    if (s === undefined) return undefined
    s.removeListener('error', ignore)
    if (s.destroyed || s.readyState !== 'open') {
      s.destroy()
      return undefined
    }
    return s
  }
}
