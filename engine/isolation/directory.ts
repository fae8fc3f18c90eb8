// Who owns what, across every worker thread: after setup each cohort publishes its users'
// resources and credentials; the main thread puts the whole directory in one SharedArrayBuffer
// (JSON), so each thread decodes it once instead of receiving a copy per cohort. It stays in
// memory only: credentials never reach a report.

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
  readonly entries: DirectoryEntry[]
  readonly #byKind = new Map<string, DirectoryEntry[]>()

  constructor (entries: DirectoryEntry[]) {
    this.entries = entries
    for (const e of entries) {
      for (const kind of Object.keys(e.resources)) {
        let list = this.#byKind.get(kind)
        if (list === undefined) { list = []; this.#byKind.set(kind, list) }
        if (e.resources[kind]!.length > 0) list.push(e)
      }
    }
  }

  static decode (sab: SharedArrayBuffer): Directory {
    // copy out of shared memory before decoding (TextDecoder refuses shared views)
    return new Directory(JSON.parse(Buffer.from(new Uint8Array(sab).slice()).toString('utf8')) as DirectoryEntry[])
  }

  /**
   * Another user to aim a probe at, preferring users of other worker threads so cross-thread
   * state is exercised; with `kind`, only users that published such a resource.
   */
  pickVictim (self: number, thread: number, kind?: string): DirectoryEntry | undefined {
    const pool = kind === undefined ? this.entries : (this.#byKind.get(kind) ?? [])
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
