// A small notes service that knows nothing of crosstalk: accounts from users.csv, a session
// cookie, each user's own notes. Plain node:http, listening on $PORT (default 3000).
//   BUG=shared-cache  caches GET /notes by URL only, so users get each other's notes
//   LEAK=audit        keeps every request (with its headers) in an audit log that is never trimmed
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const accounts = new Map(readFileSync(new URL('./users.csv', import.meta.url), 'utf8')
  .trim().split('\n').slice(1).map(line => line.split(',')))
const sessions = new Map() // sid -> email
const audit = [] // LEAK=audit: grows by one entry per request, forever
const notes = new Map() // email -> [{ id, text }]
const cache = new Map() // GET /notes answers for 2 s
let nextId = 1

function send (res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

async function readJson (req) {
  let text = ''
  for await (const chunk of req) text += chunk
  return text === '' ? {} : JSON.parse(text)
}

function caller (req) {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1]
  return sid === undefined ? undefined : sessions.get(sid)
}

async function handle (req, res) {
  const url = new URL(req.url, 'http://localhost')
  if (req.method === 'POST' && url.pathname === '/login') {
    const { email, password } = await readJson(req)
    if (accounts.get(email) !== password) return send(res, 401, { error: 'bad credentials' })
    const sid = randomUUID()
    sessions.set(sid, email)
    return send(res, 200, { email }, { 'set-cookie': `sid=${sid}; HttpOnly; Path=/` })
  }
  const email = caller(req)
  if (email === undefined) return send(res, 401, { error: 'log in first' })
  if (process.env.LEAK === 'audit') audit.push({ email, method: req.method, path: url.pathname, headers: req.headers, at: Date.now() })
  if (req.method === 'POST' && url.pathname === '/logout') {
    const sid = /sid=([^;]+)/.exec(req.headers.cookie)[1]
    sessions.delete(sid)
    return send(res, 200, {})
  }
  if (req.method === 'POST' && url.pathname === '/notes') {
    const note = { id: String(nextId++), text: String((await readJson(req)).text) }
    const mine = notes.get(email) ?? []
    mine.push(note)
    if (mine.length > 20) mine.shift() // a user keeps its last 20 notes
    notes.set(email, mine)
    cache.delete(process.env.BUG === 'shared-cache' ? url.pathname : `${email} ${url.pathname}`)
    return send(res, 201, note)
  }
  if (req.method === 'GET' && url.pathname === '/notes') {
    // the planted bug: the cache key forgets who is asking
    const key = process.env.BUG === 'shared-cache' ? url.pathname : `${email} ${url.pathname}`
    const hit = cache.get(key)
    if (hit !== undefined && hit.until > Date.now()) return send(res, 200, hit.body)
    const body = notes.get(email) ?? []
    cache.set(key, { body, until: Date.now() + 2000 })
    return send(res, 200, body)
  }
  const one = /^\/notes\/([^/]+)$/.exec(url.pathname)
  if (req.method === 'GET' && one !== null) {
    const note = (notes.get(email) ?? []).find(n => n.id === one[1])
    return note === undefined ? send(res, 404, { error: 'no such note' }) : send(res, 200, note)
  }
  send(res, 404, { error: 'not found' })
}

const server = createServer((req, res) => {
  handle(req, res).catch(err => send(res, 500, { error: err.message }))
})
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
