// Run-wide setup and teardown (issue 17 item 2): a scenario's `before(run)` runs once on the main
// thread before any user is set up and its value reaches every user as `user.run.data`; `after(run,
// data)` runs once after every user was torn down, an early stop included. Against an accounts API
// written here that counts every create, read (and by whom) and delete.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import { pathToFileURL } from 'node:url'
import { fileURLToPath } from 'node:url'
import { run, type RunResult } from '../engine/index.js'
import { cli, tempDir, writeScenario } from './support.js'

/** the typed scenario beside this file (compiled with it) */
const ACCOUNTS = pathToFileURL(fileURLToPath(new URL('./run-setup-accounts.js', import.meta.url))).href

interface AccountsServer {
  url: string
  creates: () => number
  /** DELETE requests, of known ids or not */
  deletes: () => number
  /** requests sent as a user (an `x-user` header) */
  userRequests: () => number
  /** account id -> readers (`x-user`) and how often each read it */
  reads: Map<string, Map<string, number>>
  owners: Map<string, number>
  /** creates, GETs and DELETEs in arrival order (a GET or DELETE of an unknown id too) */
  log: string[]
  /** called on each user request, with the count so far */
  onUserRequest?: (n: number) => void
}

type Teardown = { teardown: (fn: () => Promise<void>) => void }

/** POST /accounts {owner} -> 201 {id}; GET /accounts/:id -> 200 {id, owner}; DELETE /accounts/:id -> 204; else 404. */
async function accountsServer (t: Teardown): Promise<AccountsServer> {
  const owners = new Map<string, number>()
  const counts = { creates: 0, deletes: 0, user: 0 }
  const s: AccountsServer = { url: '', creates: () => counts.creates, deletes: () => counts.deletes, userRequests: () => counts.user, reads: new Map(), owners: new Map(), log: [] }
  const handle = (req: IncomingMessage, body: string): [number, unknown?] => {
    const user = req.headers['x-user']
    if (typeof user === 'string') {
      counts.user++
      s.onUserRequest?.(counts.user)
    }
    const id = /^\/accounts\/([\w-]+)$/.exec(req.url ?? '')?.[1]
    if (req.method === 'DELETE') {
      counts.deletes++
      s.log.push('delete')
    } else if (req.method === 'GET') {
      s.log.push('read')
    }
    if (req.method === 'POST' && req.url === '/accounts') {
      const created = `acc-${randomBytes(6).toString('hex')}`
      owners.set(created, (JSON.parse(body) as { owner: number }).owner)
      s.owners.set(created, owners.get(created)!)
      counts.creates++
      s.log.push('create')
      return [201, { id: created }]
    }
    if (id === undefined || !owners.has(id)) return [404]
    if (req.method === 'GET') {
      const readers = s.reads.get(id) ?? new Map<string, number>()
      readers.set(String(user), (readers.get(String(user)) ?? 0) + 1)
      s.reads.set(id, readers)
      return [200, { id, owner: owners.get(id) }]
    }
    if (req.method === 'DELETE') {
      owners.delete(id)
      return [204]
    }
    return [404]
  }
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      const [status, json] = handle(req, body)
      if (json === undefined) res.writeHead(status).end()
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  s.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return s
}

const why = (r: RunResult): string => JSON.stringify({ failures: r.failures, errors: r.errors.groups.slice(0, 3), checks: r.checkFailures })

test('before creates 1000 accounts once; each of 1000 users reads its own from user.run.data; after deletes them', async t => {
  const api = await accountsServer(t)
  const r = await run({ scenario: ACCOUNTS, target: api.url, users: 1000, iterations: 1, workers: 2, out: null })
  t.is(r.status, 'passed', why(r))
  t.is(r.workers.threads, 2, 'the data reached both worker threads')
  t.is(api.creates(), 1000, 'exactly 1000 creates')
  t.is(api.deletes(), 1000, 'exactly 1000 deletes')
  t.is(api.owners.size, 1000)
  // every account read, by its owner only: setup and the one iteration, twice each
  t.is(api.reads.size, 1000)
  const foreign = [...api.reads].filter(([id, readers]) => [...readers.keys()].some(reader => reader !== String(api.owners.get(id))))
  t.deepEqual(foreign, [], 'no account read by another user')
  t.deepEqual([...new Set([...api.reads.values()].map(readers => [...readers.values()].join()))], ['2'])
  // before strictly before any user request, after strictly after the last
  t.is(api.log.indexOf('read'), 1000, 'the first user request came after the 1000th create')
  t.is(api.log.lastIndexOf('read'), 2999, 'the last user request came before the first delete')
  // the run's metrics are the users' load: before's and after's requests are not in them
  t.is(api.userRequests(), 2000)
  t.is((r.metrics['http.reqs'] as { count: number }).count, 2000)
  t.is(r.metrics['checks']?.type === 'rate' ? r.metrics['checks'].fails : -1, 0)
})

test('a throwing before (CLI): exit 2, one redacted line naming the scenario file, no user traffic, no after', async t => {
  const dir = tempDir(t)
  const api = await accountsServer(t)
  writeScenario(dir, 'seeding.mjs', `export default defineScenario({
  async before (run) {
    await run.http.post('/accounts', { json: { owner: -1 } })
    throw new Error('seeding refused with Bearer abcdefghijklmnopqrstuvwxyz0123')
  },
  async setup (user) { await user.http.get('/accounts/x', { headers: { 'x-user': String(user.id) } }) },
  async iteration (user) { await user.http.get('/accounts/x', { headers: { 'x-user': String(user.id) } }) },
  async after (run) { await run.http.delete('/accounts/x') }
})`)
  const r = await cli(['run', './seeding.mjs', '--target', api.url, '--users', '20', '--iterations', '1', '--no-html'], { cwd: dir, timeoutMs: 30_000 })
  t.is(r.code, 2, r.stderr)
  const lines = r.stderr.trim().split('\n')
  t.is(lines.length, 1, r.stderr)
  t.regex(lines[0]!, /^crosstalk: CT_ERR_RUN_SETUP: before of scenario \.\/seeding\.mjs failed: seeding refused with Bearer \[redacted\] \(at \S+seeding\.mjs:5:11\)$/)
  t.false(r.stderr.includes('abcdefghijklmnop'), 'the token is masked')
  t.is(api.creates(), 1, "before's own request only")
  t.is(api.userRequests(), 0, 'no user was set up')
  t.is(api.deletes(), 0, 'after does not run when before failed')
  t.deepEqual(api.log, ['create'])
})

test('before: uncloneable data, a hang, a request off the target are CT_ERR_RUN_SETUP before any user; before/after must be functions', async t => {
  const dir = tempDir(t)
  const api = await accountsServer(t)
  const users = "async setup (user) { await user.http.get('/accounts/x', { headers: { 'x-user': String(user.id) } }) }, iteration () {}, async after (run) { await run.http.delete('/accounts/x') }"
  const clone = writeScenario(dir, 'clone.mjs', `export default defineScenario({ before () { return { accounts: [], format: (a) => a.id } }, ${users} })`)
  const hang = writeScenario(dir, 'hang.mjs', `export default defineScenario({ before (run) { return new Promise(() => {}) }, ${users} })`)
  // run.http reaches the validated target only: a path, never another host
  const remote = writeScenario(dir, 'remote.mjs', `export default defineScenario({ async before (run) { await run.http.get('http://example.com/') }, ${users} })`)
  const notFn = writeScenario(dir, 'not-fn.mjs', 'export default defineScenario({ after: 5, iteration () {} })')
  const base = { target: api.url, users: 10, iterations: 1, workers: 1, out: null }
  const cloneErr = await t.throwsAsync(run({ ...base, scenario: clone }))
  t.is((cloneErr as { code?: string }).code, 'CT_ERR_RUN_SETUP')
  t.regex(cloneErr.message, /^before of scenario \S+clone\.mjs returned data that cannot be structured-cloned to the workers .*could not be cloned/)
  const hangErr = await t.throwsAsync(run({ ...base, scenario: hang, runStepTimeout: '300ms' }))
  t.is((hangErr as { code?: string }).code, 'CT_ERR_RUN_SETUP')
  t.regex(hangErr.message, /^before of scenario \S+hang\.mjs did not finish within 300 ms \(runStepTimeout\)$/)
  const remoteErr = await t.throwsAsync(run({ ...base, scenario: remote }))
  t.regex(remoteErr.message, /^before of scenario \S+remote\.mjs failed: CT_ERR_HTTP: request path must start with '\/': 'http:\/\/example\.com\/'/)
  const notFnErr = await t.throwsAsync(run({ ...base, scenario: notFn }))
  t.is((notFnErr as { code?: string }).code, 'CT_ERR_SCENARIO_INVALID')
  t.regex(notFnErr.message, /'after' must be a function/)
  t.is(api.userRequests(), 0, 'no user ran')
  t.deepEqual(api.log, [], 'and no after')
})

test('after runs after an interrupt; a throwing after fails the run and keeps its measurements', async t => {
  const dir = tempDir(t)
  const api = await accountsServer(t)
  const stop = new AbortController()
  api.onUserRequest = n => { if (n === 100) stop.abort() }
  const interrupted = await run({ scenario: ACCOUNTS, target: api.url, users: 20, duration: '60s', workers: 1, out: null, signal: stop.signal })
  t.is(interrupted.status, 'interrupted', why(interrupted))
  t.is(interrupted.stopReason, 'interrupt')
  t.true(interrupted.loadDurationMs < 30_000, 'stopped early')
  t.is(api.creates(), 20)
  t.is(api.deletes(), 20, 'after deleted every account after the interrupt')
  t.is(api.log.lastIndexOf('read') < api.log.indexOf('delete'), true, 'after only once every user was torn down')

  const again = await accountsServer(t)
  const failing = writeScenario(dir, 'failing-after.mjs', `import base from ${JSON.stringify(ACCOUNTS)}
export default defineScenario({ ...base, name: 'failing-after', async after (run, data) {
  await base.after(run, data)
  throw new Error('cleanup incomplete: ' + data.accounts.length + ' accounts')
} })`)
  const r = await run({ scenario: failing, target: again.url, users: 30, iterations: 3, workers: 1, out: null })
  t.is(r.status, 'failed')
  t.is(r.failures.length, 1, why(r))
  t.regex(r.failures[0]!, /^after of scenario \S+failing-after\.mjs failed: cleanup incomplete: 30 accounts \(at \S+failing-after\.mjs:5:9\)$/)
  t.is(again.deletes(), 30)
  t.is(again.userRequests(), 30 * 4)
  t.is((r.metrics['http.reqs'] as { count: number }).count, 30 * 4, 'the measurements are kept')
  t.is(r.users.completed, 30)
})

test("run data's secret fields are masked in the users' errors, as a users file's", async t => {
  const dir = tempDir(t)
  const api = await accountsServer(t)
  const scenario = writeScenario(dir, 'secret.mjs', `export default defineScenario({
  before (run) { return { admin: { name: 'admin-of-' + run.scenario, apiToken: 'tk-' + run.runId + '-s3cr3t' } } },
  iteration (user) { throw new Error('refused ' + user.run.data.admin.name + ' with ' + user.run.data.admin.apiToken) }
})`)
  const r = await run({ scenario, target: api.url, users: 4, iterations: 1, workers: 1, out: null })
  t.is(r.status, 'failed')
  const sample = r.errors.groups[0]?.message ?? ''
  t.is(sample, 'refused admin-of-secret with [redacted]', JSON.stringify(r.errors.groups))
  t.false(JSON.stringify(r).includes('s3cr3t'))
})
