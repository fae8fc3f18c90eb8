// Errors and failed checks say where: the request (method and route) and the scenario's line; the
// ava macro's failure message names the failed check, its line and the scenario file. The server
// is plain node:http written here; the macro runs in a real ava process of its own.
import test from 'ava'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../engine/index.js'
import { formatFailureReport } from '../engine/report/index.js'
import { tempDir, writeScenario } from './support.js'

/** GET /items/<n>: JSON for even n, a plain-text 404 for odd n. */
async function serveItems (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const server = createServer((req, res) => {
    const n = Number(req.url?.split('/')[2])
    if (n % 2 === 0) res.setHeader('content-type', 'application/json').end(JSON.stringify({ id: n }))
    else res.writeHead(404).end('not found')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

// line 3 of the file holds the check, line 4 the json() that throws on a 404
const ITEMS = `export default defineScenario({ name: 'items-where', async iteration (user) {
  const res = await user.http.get('/items/' + user.id, { expect: [200, 404] })
  user.check(res.status === 200, 'item readable')
  if (user.id % 4 === 1) res.json()
} })`

test('a failed check names its first user, that user\'s request and the scenario line; a non-JSON answer names its request', async t => {
  const target = await serveItems(t)
  const file = writeScenario(tempDir(t), 'items-where.mjs', ITEMS)
  const r = await run({ scenario: file, target, users: 20, iterations: 1, out: null })
  t.is(r.status, 'failed')
  t.is(r.checkFailures.length, 1)
  const c = r.checkFailures[0]!
  t.like(c, { check: 'item readable', fails: 10, total: 20 })
  t.regex(c.first.user, /^user-\d*[13579]$/)
  t.is(c.first.request, 'GET /items/:id')
  t.regex(c.first.at ?? '', /items-where\.mjs:4:\d+$/) // the defining import is line 1
  const g = r.errors.groups.find(e => e.phase === 'iteration')
  t.like(g, { method: 'GET', route: '/items/:id', status: 404, count: 5 })
  t.regex(g?.at ?? '', /items-where\.mjs:5:\d+$/)
  t.regex(g?.message ?? '', /^GET \/items\/\d+: response 404 is not JSON/)
  const report = formatFailureReport(r)
  t.true(report.startsWith(`scenario items-where (${file}) failed`), report)
  t.regex(report, /check 'item readable' failed 10 of 20 \(first: user-\d+ after GET \/items\/:id, at .*items-where\.mjs:4:\d+\)/)
  t.regex(report, /error 5× iteration: .*GET \/items\/:id 404: GET \/items\/\d+: response 404 is not JSON/)
})

test('the ava macro fails with the failed check, its scenario line and the scenario file', async t => {
  const target = await serveItems(t)
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'items-where.mjs', ITEMS)
  const ava = fileURLToPath(new URL('../../node_modules/ava/entrypoints/cli.mjs', import.meta.url))
  const macro = new URL('../engine/ava.js', import.meta.url).href
  // the temp dir has no node_modules: ava itself by path, the instance its own CLI runs
  const avaMain = new URL('../../node_modules/ava/entrypoints/main.mjs', import.meta.url).href
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', ava: { files: ['*.test.mjs'], timeout: '2m' } }))
  writeFileSync(join(dir, 'items.test.mjs'), `import test from ${JSON.stringify(avaMain)}
import { loadTest } from ${JSON.stringify(macro)}
test.serial('items hold', loadTest, { scenario: ${JSON.stringify(scenario)}, target: ${JSON.stringify(target)}, users: 20, iterations: 1, out: null })
`)
  const out = await new Promise<{ code: number | null, text: string }>((resolve) => {
    const child = spawn(process.execPath, [ava, '--no-worker-threads'], { cwd: dir, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { text += d })
    child.on('close', code => resolve({ code, text }))
  })
  t.is(out.code, 1, out.text)
  t.regex(out.text, /scenario items-where \(.*items-where\.mjs\) failed/)
  t.regex(out.text, /check 'item readable' failed 10 of 20 \(first: user-\d+ after GET \/items\/:id, at .*items-where\.mjs:4:\d+\)/)
})
