// A small notes server for the report tests: each user writes a note (a canary) and reads it
// back. `leak: true` plants the bug: GET /note answers the last note anyone wrote, so users read
// each other's canaries (foreign-data). `delayMs` slows every answer (a slower candidate).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface NotesServer { url: string, close: () => Promise<void> }

export async function startNotesServer (o: { leak?: boolean, delayMs?: number } = {}): Promise<NotesServer> {
  const notes = new Map<string, string>()
  let last = ''
  const server: Server = createServer((req, res) => {
    const user = String(req.headers['x-user'] ?? '')
    const answer = (status: number, body?: unknown): void => {
      setTimeout(() => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
        res.end(body === undefined ? undefined : JSON.stringify(body))
      }, o.delayMs ?? 0)
    }
    if (req.method === 'POST' && req.url === '/note') {
      let text = ''
      req.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => {
        const note = (JSON.parse(text) as { note: string }).note
        notes.set(user, note)
        last = note
        answer(204)
      })
      return
    }
    if (req.method === 'GET' && req.url === '/note') return answer(200, { note: o.leak === true ? last : notes.get(user) ?? '' })
    answer(404, { error: 'not found' })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/** The scenario body for writeScenario(): write a canary note, read the note back. */
export const NOTES_SCENARIO = `export default defineScenario({
  name: 'notes',
  async setup (user) { user.http.headers['x-user'] = user.name },
  async iteration (user) {
    const put = await user.http.post('/note', { json: { note: user.canary('note') }, name: 'write note' })
    user.check(put.status === 204, 'note stored')
    const got = await user.http.get('/note', { name: 'read note' })
    user.check(got.status === 200, 'note read')
  }
})`
