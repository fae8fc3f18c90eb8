// A per-visitor session store in the style of express-session's MemoryStore, for the leak
// benchmark; started by crosstalk as a `cmd:` target (with the inspector), it listens on $PORT.
// Leaky (default): the session cookie is never read back, so every request opens a new session
// and the store keeps one serialized entry per request (~150 B: a 16-character sid key, a
// ~55-character JSON string, the dictionary slot). `--no-leak`: the twin that reads the cookie,
// so the store holds one entry per visitor (1000 for 1000 users), rewritten on each request.
// `--ballast-mb N`: N MB of small live objects allocated at start, for the snapshot-diff
// measurement on a ~100 MB heap.
import { createServer, type IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'

class MemoryStore {
  sessions: Record<string, string> = Object.create(null) as Record<string, string>
  set (sid: string, session: object): void {
    this.sessions[sid] = JSON.stringify(session)
  }
}

const args = process.argv.slice(2)
const leak = !args.includes('--no-leak')
const ballastMb = Number(args[args.indexOf('--ballast-mb') + 1] ?? 0)
const store = new MemoryStore()
// each entry: a 56-byte object + a ~40-byte string: about 100 bytes of live heap
const ballast: Array<{ id: number, label: string }> = []
for (let i = 0; args.includes('--ballast-mb') && i < ballastMb * 2 ** 20 / 100; i++) ballast.push({ id: i, label: `ballast entry number ${i}` })

function sidOf (req: IncomingMessage): string | undefined {
  return /(?:^|;\s*)sid=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1]
}

let visits = 0
const server = createServer((req, res) => {
  const known = leak ? undefined : sidOf(req)
  const sid = known ?? randomBytes(8).toString('hex')
  store.set(sid, { cookie: { path: '/' }, visits: ++visits, path: req.url })
  if (known === undefined) res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly`)
  res.setHeader('content-type', 'application/json')
  res.end(`{"ok":true,"ballast":${ballast.length}}`)
})
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
