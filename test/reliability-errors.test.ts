// Every error shows its cause, and the engine's own abort is not a target failure (issue 12,
// items 7 and 13): a target that dies mid-run yields a few groups that name ECONNREFUSED, however
// many users and per-user paths; an interrupt during setup or load counts users interrupted, not
// lost, and requests it cut neither failed nor errors.
import test from 'ava'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { METRICS, run } from '../engine/index.js'
import { ErrorGroups } from '../engine/pool/error-groups.js'
import { tempDir, writeScenario } from './support.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function serve (t: { teardown: (fn: () => Promise<void>) => void }, handler: Handler): Promise<{ url: string, kill: () => void }> {
  const server = createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const kill = (): void => {
    server.close()
    server.closeAllConnections()
  }
  t.teardown(async () => {
    kill()
    await new Promise<void>(resolve => setImmediate(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, kill }
}

test('errors with per-user paths, tokens and ports fall into one group per cause', t => {
  const groups = new ErrorGroups()
  for (let u = 0; u < 300; u++) {
    const path = `/users/user-${u}/items/${u * 7}?token=${u.toString(16).padStart(24, 'a1')}`
    const transport = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${40000 + u}`), { code: 'ECONNREFUSED' })
    groups.add('iteration', `user-${u}`, Object.assign(new Error(`GET ${path} failed: ${transport.message}`, { cause: transport }), { code: 'CT_ERR_HTTP', request: { method: 'GET', path } }))
    groups.add('iteration', `user-${u}`, new Error(`item ${u} of user-${u} is missing`))
  }
  const list = groups.list()
  t.is(list.length, 2, JSON.stringify(list, null, 1))
  t.like(list.find(g => g.code === 'CT_ERR_HTTP'), { cause: 'ECONNREFUSED', method: 'GET', route: '/users/user-:id/items/:id', count: 300, user: 'user-0' })
  t.like(list.find(g => g.code === undefined), { message: 'item 0 of user-0 is missing', count: 300 })
  t.false(JSON.stringify(list).includes('token=a1'), 'the sample message is redacted')
})

test('a target that dies mid-run: groups name ECONNREFUSED with counts, few groups for many users', async t => {
  let served = 0
  const target = await serve(t, (_req, res) => {
    served++
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    if (served === 200) target.kill() // the target dies under load
  })
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'per-user.mjs', `export default defineScenario({
    name: 'per-user',
    async iteration (user) {
      await user.http.get('/users/' + user.name + '/items/' + (user.id * 13) + '?page=' + user.iterations)
      await user.sleep(20)
    }
  })`)
  const r = await run({ scenario, target: target.url, users: 40, duration: '2s', workers: 2 })
  t.is(r.status, 'failed')
  const groups = r.errors.groups
  t.log(groups.map(g => `${g.count}x ${g.code ?? ''} ${g.cause ?? ''} ${g.method ?? ''} ${g.route ?? ''}: ${g.message}`).join('\n'))
  t.true(groups.length > 0 && groups.length <= 4, JSON.stringify(groups, null, 1))
  t.is(groups.reduce((n, g) => n + g.count, 0), r.errors.count)
  const refused = groups.find(g => g.cause === 'ECONNREFUSED')
  t.truthy(refused, JSON.stringify(groups, null, 1))
  t.like(refused, { code: 'CT_ERR_HTTP', method: 'GET', route: '/users/user-:id/items/:id' })
  t.true((refused?.count ?? 0) >= 40, `ECONNREFUSED ${refused?.count}`)
  t.regex(refused?.message ?? '', /^GET \/users\/user-\d+\/items\/\d+\?page=\d+ failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
  t.false(groups.some(g => g.message === '(other errors)'))
})

test('an interrupt during setup: users interrupted, none lost, no error group from the abort', async t => {
  let pending = 0
  const controller = new AbortController()
  const target = await serve(t, (req) => {
    // every login hangs; once all 30 wait, the run is interrupted
    if (req.url === '/login' && ++pending === 30) controller.abort()
  })
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'hanging-login.mjs', `export default defineScenario({
    name: 'hanging-login',
    async setup (user) { await user.http.post('/login') },
    async iteration (user) { await user.http.get('/never') }
  })`)
  const started = Date.now()
  const r = await run({ scenario, target: target.url, users: 30, duration: '5s', workers: 2, signal: controller.signal })
  t.true(Date.now() - started < 15_000, `took ${Date.now() - started} ms`)
  t.is(pending, 30)
  t.is(r.status, 'interrupted')
  t.is(r.stopReason, 'interrupt')
  t.like(r.users, { planned: 30, lost: 0, interrupted: 30, completed: 0 })
  t.deepEqual(r.errors, { count: 0, groups: [] })
  t.deepEqual(r.failures, [])
  const failed = r.metrics[METRICS.httpReqFailed]
  t.true(failed === undefined || (failed.type === 'rate' && failed.passes === 0), JSON.stringify(failed))
})

test('an interrupt during load: the requests it cut are neither failed requests nor errors', async t => {
  let hanging = 0
  const controller = new AbortController()
  const target = await serve(t, (req, res) => {
    if (req.url === '/login') { res.end('ok'); return }
    if (++hanging === 20) controller.abort() // every user waits on its request
  })
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'hanging-load.mjs', `export default defineScenario({
    name: 'hanging-load',
    async setup (user) { await user.http.post('/login') },
    async iteration (user) { await user.http.get('/slow/' + user.id) }
  })`)
  const r = await run({ scenario, target: target.url, users: 20, duration: '10s', workers: 1, signal: controller.signal })
  t.is(r.status, 'interrupted')
  t.like(r.users, { lost: 0, interrupted: 20 })
  t.deepEqual(r.errors, { count: 0, groups: [] })
  const failed = r.metrics[METRICS.httpReqFailed]
  if (failed?.type !== 'rate') return t.fail(JSON.stringify(failed))
  t.is(failed.passes, 0, 'no request counts as failed')
  t.is(failed.fails, 20, 'the logins succeeded')
  t.like(r.metrics[METRICS.httpReqs], { count: 20 })
})
