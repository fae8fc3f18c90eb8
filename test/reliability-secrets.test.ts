// Nothing secret leaks out (issue 12, item 6): tokens, session ids and passwords a server hands
// out, or a user passes in, appear in no artifact (report.json, stdout, stderr); canaries and
// ordinary messages stay readable.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunResult } from '../engine/index.js'
import { redact, redactUrl } from '../engine/shared/index.js'
import { cli, tempDir, writeScenario } from './support.js'

test('redact masks tokens, session ids, header values, URL credentials and secret query values', t => {
  const token = 'a1b2c3d4e5f60718293a4b5c'
  const cases: Array<[string, string]> = [
    [`response 500 is not JSON: denied for Bearer ${token}`, 'response 500 is not JSON: denied for Bearer [redacted]'],
    [`sid=${token}; Path=/`, 'sid=[redacted]; Path=/'],
    [`{"access_token":"${token}"}`, '{"access_token":"[redacted]"}'],
    [`Cookie: sid=x; theme=dark`, 'Cookie: [redacted]'],
    [`authorization: Basic dXNlcjpwYXNzd29yZA==`, 'authorization: [redacted]'],
    [`x-api-key: k-123`, 'x-api-key: [redacted]'],
    [`WebSocket ws://127.0.0.1:3000/events?token=${token}&room=7: Unexpected server response: 401`, 'WebSocket ws://127.0.0.1:3000/events?token=[redacted]&room=7: Unexpected server response: 401'],
    ['GET /cb?code=xyz&state=ok&apikey=k&auth=a&password=p&page=2', 'GET /cb?code=[redacted]&state=ok&apikey=[redacted]&auth=[redacted]&password=[redacted]&page=2'],
    ['target http://admin:hunter2@127.0.0.1:3000/', 'target http://[redacted]@127.0.0.1:3000/'],
    [`GET /users/${token}/items/42 failed: other side closed`, 'GET /users/[redacted]/items/42 failed: other side closed'],
    [`session ${token} rejected`, 'session [redacted] rejected']
  ]
  for (const [input, expected] of cases) t.is(redact(input), expected, input)
  t.is(redactUrl('http://user:pw@127.0.0.1:3000/a?token=x&b=2'), 'http://[redacted]@127.0.0.1:3000/a?token=[redacted]&b=2')
  t.is(redactUrl('http://127.0.0.1:3000/'), 'http://127.0.0.1:3000/')
})

test('redact leaves canaries and ordinary messages readable', t => {
  const readable = [
    'ctk_r1a2b3c4_17_note_0123456789abcdef0123',
    'GET /users/user-17/items/42 failed: connect ECONNREFUSED 127.0.0.1:45678',
    'POST /items timed out after 10000 ms (UND_ERR_HEADERS_TIMEOUT)',
    'setup of user-3 did not finish within 30000 ms',
    'no token provided; status code 500',
    'threshold http.req.duration: p(95)<50 failed (61.2)',
    'socket ws://127.0.0.1:3000/events closed (1006)'
  ]
  for (const text of readable) t.is(redact(text), text)
})

interface Planted { tokens: Set<string>, sids: Set<string> }

/** A server that knows nothing of crosstalk: issues per-user tokens and sids, then leaks them back in errors. */
async function leakyServer (t: { teardown: (fn: () => Promise<void>) => void }): Promise<{ port: number, planted: Planted }> {
  const planted: Planted = { tokens: new Set(), sids: new Set() }
  const issued = new Map<string, { token: string, sid: string }>()
  // hex with a fixed letter-digit start: opaque, as real session tokens are
  const mint = (): string => `f0${randomBytes(12).toString('hex')}`
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'POST' && url.pathname === '/login') {
      const who = url.searchParams.get('user') ?? '?'
      const pair = { token: mint(), sid: mint() }
      issued.set(who, pair)
      planted.tokens.add(pair.token)
      planted.sids.add(pair.sid)
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `sid=${pair.sid}; Path=/; HttpOnly` })
      res.end(JSON.stringify({ token: pair.token }))
      return
    }
    if (url.pathname === '/report') {
      // a non-JSON error body that echoes the caller's credentials
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`denied: ${req.headers.authorization ?? ''} cookie ${req.headers.cookie ?? ''}`)
      return
    }
    if (url.pathname.startsWith('/drop')) {
      req.socket.destroy() // a transport failure on a path and query that carry the token
      return
    }
    res.writeHead(404).end()
  })
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return { port: (server.address() as { port: number }).port, planted }
}

const LEAKY_SCENARIO = `export default defineScenario({
  name: 'leaky',
  async setup (user) {
    const res = await user.http.post('/login?user=' + user.name)
    user.state.token = res.json().token
    user.http.headers.authorization = 'Bearer ' + user.state.token
  },
  async iteration (user) {
    const token = user.state.token
    switch (user.iterations % 4) {
      case 0: (await user.http.get('/report')).json(); break
      case 1: await user.http.get('/drop/' + token + '?token=' + token + '&access_token=' + token); break
      case 2: await user.ws('/events?token=' + token); break
      default: throw new Error('kept ' + user.canary('note') + ' while session ' + token + ' was rejected')
    }
  }
})`

test('planted tokens, session ids and a target password appear in no artifact; causes and canaries do', async t => {
  const { port, planted } = await leakyServer(t)
  const dir = tempDir(t)
  const out = join(dir, 'out')
  const scenario = writeScenario(dir, 'leaky.mjs', LEAKY_SCENARIO)
  const password = 'hunter2-pw-9f8e7d'
  const r = await cli(['run', scenario, '--target', `http://tester:${password}@127.0.0.1:${port}`, '--users', '12', '--iterations', '4', '--workers', '1', '--out', out], { timeoutMs: 60_000 })
  t.is(r.code, 1, r.stderr)
  const reportText = readFileSync(join(out, 'report.json'), 'utf8')
  const report = JSON.parse(reportText) as RunResult
  t.is(planted.tokens.size, 12)
  t.is(planted.sids.size, 12)
  t.is(report.errors.count, 12 * 4)
  // the rendered reports too: they are built from the redacted result and must stay so
  const rendered = Object.fromEntries(['report.html', 'summary.md', 'junit.xml'].map(f => [f, readFileSync(join(out, f), 'utf8')]))
  const artifacts: Record<string, string> = { 'report.json': reportText, ...rendered, stdout: r.stdout, stderr: r.stderr }
  for (const [name, text] of Object.entries(artifacts)) {
    for (const secret of [...planted.tokens, ...planted.sids, password]) t.false(text.includes(secret), `${name} holds ${secret}`)
  }
  t.is(report.target.url, `http://[redacted]@127.0.0.1:${port}/`)
  t.true(r.stdout.includes(`target http://[redacted]@127.0.0.1:${port}/`))
  // every cause is there, once each, with what makes it readable
  const groups = report.errors.groups
  t.true(groups.length <= 6, JSON.stringify(groups, null, 1))
  const byStatus500 = groups.find(g => g.status === 500)
  t.is(byStatus500?.count, 12)
  // the message names its request first, then the answer (its body redacted)
  t.regex(byStatus500?.message ?? '', /^GET \/[^ ]*: response 500 is not JSON: denied: Bearer \[redacted\]/)
  t.like(byStatus500, { method: 'GET' })
  const dropped = groups.find(g => g.route === '/drop/:id')
  t.like(dropped, { code: 'CT_ERR_HTTP', method: 'GET', count: 12 })
  const ws = groups.find(g => g.method === 'WS')
  t.like(ws, { code: 'CT_ERR_WS', route: '/events', status: 401, count: 12 })
  t.true(ws?.message.includes('/events?token=[redacted]'), ws?.message)
  const thrown = groups.find(g => g.message.startsWith('kept '))
  t.is(thrown?.count, 12)
  t.regex(thrown?.message ?? '', /^kept ctk_[A-Za-z0-9]+_\d+_note_[0-9a-f]+ while session \[redacted\] was rejected$/)
})

test('compare: a target password appears in no artifact (compare.json/md/html, run reports, stdout, stderr)', async t => {
  const server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const port = (server.address() as { port: number }).port
  const dir = tempDir(t)
  const out = join(dir, 'cmp')
  const scenario = writeScenario(dir, 'get.mjs', `export default defineScenario({
  name: 'get',
  async iteration (user) { await user.http.get('/'); await user.sleep(20) }
})`)
  const password = 'Sup3r-compare-pw-4d2c'
  const target = `http://admin:${password}@127.0.0.1:${port}/`
  const r = await cli(['compare', '-b', target, '-c', target, scenario, '--rounds', '1', '-u', '2', '-d', '1s', '-w', '1', '--warmup', '0', '--out', out], { cwd: dir, timeoutMs: 60_000 })
  t.not(r.code, 2, r.stderr) // it ran (pass or fail is the statistic's business)
  const compareJson = readFileSync(join(out, 'compare.json'), 'utf8')
  const result = JSON.parse(compareJson) as { labels: { baseline: string }, runReports: string[] }
  t.is(result.labels.baseline, `http://[redacted]@127.0.0.1:${port}/`)
  t.is(result.runReports.length, 2)
  const artifacts: Record<string, string> = {
    'compare.json': compareJson,
    'compare.md': readFileSync(join(out, 'compare.md'), 'utf8'),
    'compare.html': readFileSync(join(out, 'compare.html'), 'utf8'),
    ...Object.fromEntries(result.runReports.map(p => [p, readFileSync(p, 'utf8')])),
    stdout: r.stdout,
    stderr: r.stderr
  }
  for (const [name, text] of Object.entries(artifacts)) t.false(text.includes(password), `${name} holds the password`)
  // the per-run lines and the table still name the target, without its password
  t.regex(r.stderr, new RegExp(`round 1/1 baseline +http://\\[redacted\\]@127\\.0\\.0\\.1:${port}/: `))
  t.true(r.stdout.includes(`baseline http://[redacted]@127.0.0.1:${port}/ vs candidate`), r.stdout)
})
