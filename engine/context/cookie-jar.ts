// Per-user cookies: name=value pairs set by the server, sent back on every request of that user
// only. Parsing of Set-Cookie is undici's; the jar ignores domain/path (one origin per user).
import { parseCookie } from 'undici'

export class CookieJar {
  /**
   * name -> `name=value`, the one string a cookie costs: with a single cookie (a session) it is
   * the header itself, and it holds no slice of the Set-Cookie line it came from
   */
  readonly #cookies = new Map<string, string>()
  #header: string | undefined

  /** The `cookie` request header, or undefined when the jar is empty. */
  get header (): string | undefined {
    if (this.#header === undefined && this.#cookies.size > 0) {
      this.#header = this.#cookies.size === 1 ? this.#cookies.values().next().value! : [...this.#cookies.values()].join('; ')
    }
    return this.#header
  }

  get size (): number {
    return this.#cookies.size
  }

  get (name: string): string | undefined {
    return this.#cookies.get(name)?.slice(name.length + 1)
  }

  /** Applies one Set-Cookie header value. */
  set (setCookie: string): void {
    const c = parseCookie(setCookie)
    if (c === null) return
    const expired = (c.maxAge !== undefined && c.maxAge <= 0) ||
      (c.expires !== undefined && new Date(c.expires).getTime() <= Date.now())
    if (expired || c.value === '') this.#cookies.delete(c.name)
    // a flat copy: the concatenation alone would keep the value as a slice of the whole line
    else this.#cookies.set(c.name, flat(`${c.name}=${c.value}`))
    this.#header = undefined
  }

  clear (): void {
    this.#cookies.clear()
    this.#header = undefined
  }
}

/** `s` copied into one new string that references none it was built from (once per Set-Cookie). */
function flat (s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8')
}
