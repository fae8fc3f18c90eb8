// A completed HTTP response. The body is kept as bytes; text, JSON and headers are decoded lazily
// because most iterations look at the status and maybe one field.

export class HttpResponse {
  readonly status: number
  readonly body: Buffer
  /** wall time from dispatch to the last body byte, in milliseconds */
  readonly durationMs: number
  /** header names and values as received, alternating */
  readonly rawHeaders: Buffer[]
  /** body bytes received beyond the run's maxBodyBytes: counted, not kept (the body is cut there) */
  readonly discardedBytes: number
  /** the request this answers, for errors that name it */
  readonly method: string
  readonly path: string
  #headers: Record<string, string> | undefined
  #text: string | undefined
  #json: unknown

  constructor (status: number, rawHeaders: Buffer[], body: Buffer, durationMs: number, discardedBytes = 0, method = '', path = '') {
    this.status = status
    this.method = method
    this.path = path
    this.discardedBytes = discardedBytes
    this.rawHeaders = rawHeaders
    this.body = body
    this.durationMs = durationMs
  }

  get ok (): boolean {
    return this.status >= 200 && this.status < 300
  }

  /** Lower-cased header names; repeated headers joined with ', '. */
  get headers (): Record<string, string> {
    if (this.#headers === undefined) {
      const h: Record<string, string> = {}
      const raw = this.rawHeaders
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1').toLowerCase()
        const value = raw[i + 1]!.toString('latin1')
        h[name] = h[name] === undefined ? value : `${h[name]}, ${value}`
      }
      this.#headers = h
    }
    return this.#headers
  }

  header (name: string): string | undefined {
    return this.headers[name.toLowerCase()]
  }

  text (): string {
    this.#text ??= this.body.toString('utf8')
    return this.#text
  }

  /** Parsed JSON body (cached). Throws a SyntaxError naming the status when the body is not JSON. */
  json<T = unknown> (): T {
    if (this.#json === undefined) {
      try {
        this.#json = JSON.parse(this.text())
      } catch (err) {
        const cut = this.discardedBytes > 0 ? ` (body cut at ${this.body.length} bytes by maxBodyBytes)` : ''
        // the request and status travel with the error: error groups key on them, not on the (redacted) body excerpt
        const request = this.method === '' ? undefined : { method: this.method, path: this.path, status: this.status }
        throw Object.assign(new SyntaxError(`${request === undefined ? '' : `${this.method} ${this.path}: `}response ${this.status} is not JSON${cut}: ${this.text().slice(0, 80)}`, { cause: err }), { status: this.status, request })
      }
    }
    return this.#json as T
  }
}
