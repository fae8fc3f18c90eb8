// Who owns what, across every worker thread: after setup each cohort publishes its users'
// resources and credentials; the main thread puts the whole directory in one SharedArrayBuffer
// (JSON), so each thread decodes it once (and only if a probe needs it) instead of receiving a
// copy per cohort. It stays in memory only: credentials never reach a report.

export interface DirectoryEntry {
  user: number
  thread: number
  /** kind (e.g. 'items') -> resource ids */
  resources: Record<string, string[]>
  /** what the user sends to prove who it is: its headers and cookies */
  credentials: Record<string, string>
}

export function encodeDirectory (entries: DirectoryEntry[]): SharedArrayBuffer {
  const bytes = Buffer.from(JSON.stringify(entries))
  const sab = new SharedArrayBuffer(bytes.length)
  new Uint8Array(sab).set(bytes)
  return sab
}

export class Directory {
  #entries: DirectoryEntry[] | undefined
  #byKind: Map<string, DirectoryEntry[]> | undefined
  /** the encoded directory, until something first needs its entries */
  #source: SharedArrayBuffer | undefined

  constructor (entries: DirectoryEntry[]) {
    this.#entries = entries
  }

  /**
   * A directory read from its shared buffer on first use: a scenario without probes never
   * decodes it, so a thread does not hold every user's entry (and credentials) for nothing.
   */
  static decode (sab: SharedArrayBuffer): Directory {
    const d = new Directory([])
    d.#entries = undefined
    d.#source = sab
    return d
  }

  get entries (): DirectoryEntry[] {
    if (this.#entries === undefined) {
      // copy out of shared memory before decoding (TextDecoder refuses shared views)
      this.#entries = JSON.parse(Buffer.from(new Uint8Array(this.#source!).slice()).toString('utf8')) as DirectoryEntry[]
      this.#source = undefined
    }
    return this.#entries
  }

  #kinds (): Map<string, DirectoryEntry[]> {
    if (this.#byKind !== undefined) return this.#byKind
    const byKind = new Map<string, DirectoryEntry[]>()
    for (const e of this.entries) {
      for (const kind of Object.keys(e.resources)) {
        let list = byKind.get(kind)
        if (list === undefined) { list = []; byKind.set(kind, list) }
        if (e.resources[kind]!.length > 0) list.push(e)
      }
    }
    this.#byKind = byKind
    return byKind
  }

  /**
   * Another user to aim a probe at, preferring users of other worker threads so cross-thread
   * state is exercised; with `kind`, only users that published such a resource.
   */
  pickVictim (self: number, thread: number, kind?: string): DirectoryEntry | undefined {
    const pool = kind === undefined ? this.entries : (this.#kinds().get(kind) ?? [])
    if (pool.length === 0) return undefined
    const start = Math.floor(Math.random() * pool.length)
    let sameThread: DirectoryEntry | undefined
    for (let i = 0; i < pool.length; i++) {
      const e = pool[(start + i) % pool.length]!
      if (e.user === self) continue
      if (e.thread !== thread) return e
      sameThread ??= e
    }
    return sameThread
  }
}
