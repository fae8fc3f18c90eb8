// `--users-file` (issue 14 item 3): real accounts from a CSV, JSON or NDJSON file, one row per
// user by global user id, checked before any load; secret fields never reach a file or the
// terminal. Against a login server written here that knows the same accounts.
import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { run, type RunResult } from '../engine/index.js'
import { Problems, runOptionRow, runOptionsFromFlags } from '../engine/options/index.js'
import { redact } from '../engine/shared/index.js'
import { isSecretField, registerRowSecrets } from '../engine/shared/secret-values.js'
import { cli, tempDir, writeScenario } from './support.js'

interface Account { uid: string, email: string, password: string, name: string }

/** Accounts with what a CSV must quote: a comma in the name, a double quote in the password. */
function accounts (n: number, tag = 'a'): Account[] {
  return Array.from({ length: n }, (_v, i) => ({ uid: String(i), email: `${tag}${i}@example.test`, password: `pw"${tag}-${i}-hunter`, name: `Doe, Jane ${i}` }))
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`

function writeCsv (path: string, rows: Account[]): void {
  writeFileSync(path, ['uid,email,password,name', ...rows.map(r => [r.uid, r.email, quote(r.password), quote(r.name)].join(',')), ''].join('\n'))
}

interface LoginServer { url: string, logins: Map<string, number>, requests: () => number }

/** POST /login {email, password}: 200 for a known pair, 401 otherwise; counts every request and each email's logins. */
async function loginServer (t: { teardown: (fn: () => Promise<void>) => void }, known: Account[]): Promise<LoginServer> {
  const passwords = new Map(known.map(a => [a.email, a.password]))
  const logins = new Map<string, number>()
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
      if (req.method !== 'POST' || req.url !== '/login') return void res.writeHead(404).end()
      const { email, password } = JSON.parse(body) as { email: string, password: string }
      logins.set(email, (logins.get(email) ?? 0) + 1)
      res.writeHead(passwords.get(email) === password ? 200 : 401, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, logins, requests: () => requests }
}

/** Logs in once per iteration with the user's row; the row must be the user's own (uid = id). */
const LOGIN_SCENARIO = `export default defineScenario({
  name: 'login',
  async iteration (user) {
    user.check(user.data.uid === String(user.id), 'row of this user')
    const res = await user.http.post('/login', { json: { email: user.data.email, password: user.data.password } })
    if (res.status !== 200) throw new Error('login refused: ' + res.status)
  }
})`

test('1000 users from a 1000-row CSV on 2 threads: each credential logs in exactly once, quoted fields intact', async t => {
  const dir = tempDir(t)
  const rows = accounts(1000)
  writeCsv(join(dir, 'users.csv'), rows)
  const server = await loginServer(t, rows)
  const scenario = writeScenario(dir, 'login.mjs', LOGIN_SCENARIO)
  const nameCheck = writeScenario(dir, 'names.mjs', `export default defineScenario({ name: 'names', iteration (user) { user.check(user.data.name === 'Doe, Jane ' + user.id, 'comma kept') } })`)
  const r = await run({ scenario, target: server.url, users: 1000, iterations: 1, workers: 2, usersFile: { path: 'users.csv' }, cwd: dir, out: null })
  t.is(r.status, 'passed', JSON.stringify({ failures: r.failures, errors: r.errors.groups.slice(0, 3) }))
  t.is(r.workers.threads, 2)
  t.is(server.logins.size, 1000, 'all 1000 credentials distinct')
  t.deepEqual([...new Set(server.logins.values())], [1], 'each logged in once')
  t.deepEqual([...server.logins.keys()].sort(), rows.map(a => a.email).sort())
  // the string form of the option, and CSV fields read back exactly (comma and quote inside quotes)
  const names = await run({ scenario: nameCheck, fixture: true, users: 50, iterations: 1, workers: 2, usersFile: join(dir, 'users.csv'), out: null })
  t.is(names.status, 'passed', JSON.stringify(names.metrics['checks{check:comma kept}']))
})

test('more users than rows: CT_ERR_USERS_FILE, exit 2, before any request; with --users-file-reuse it runs, user N on row N % rows', async t => {
  const dir = tempDir(t)
  const rows = accounts(1000)
  writeCsv(join(dir, 'users.csv'), rows)
  const server = await loginServer(t, rows)
  const scenario = writeScenario(dir, 'login.mjs', LOGIN_SCENARIO)
  const refused = await cli(['run', scenario, '--target', server.url, '--users', '1001', '--iterations', '1', '--users-file', 'users.csv', '-q', '--out', join(dir, 'out')], { cwd: dir, timeoutMs: 30_000 })
  t.is(refused.code, 2, refused.stderr)
  t.regex(refused.stderr, /^crosstalk: CT_ERR_USERS_FILE: users file \S+users\.csv has 1000 rows for up to 1001 users: .*--users-file-reuse/)
  t.is(refused.stderr.trim().split('\n').length, 1, 'one line')
  t.is(server.requests(), 0, 'no request reached the server')
  // reuse: a row per user again from the start; the scenario's uid check is the reuse rule's
  const reused = writeScenario(dir, 'reused.mjs', LOGIN_SCENARIO.replace("user.data.uid === String(user.id)", "user.data.uid === String(user.id % 10)"))
  writeCsv(join(dir, 'ten.csv'), rows.slice(0, 10))
  const r = await run({ scenario: reused, target: server.url, users: 35, iterations: 1, workers: 2, usersFile: { path: join(dir, 'ten.csv'), reuse: true }, out: null })
  t.is(r.status, 'passed', JSON.stringify(r.errors.groups))
  t.deepEqual(rows.slice(0, 10).map(a => server.logins.get(a.email)), [4, 4, 4, 4, 4, 3, 3, 3, 3, 3])
})

test('JSON and NDJSON files; open-model users set up on demand get their own rows too', async t => {
  const dir = tempDir(t)
  const rows = accounts(40, 'j')
  const server = await loginServer(t, rows)
  const scenario = writeScenario(dir, 'login.mjs', LOGIN_SCENARIO)
  writeFileSync(join(dir, 'users.json'), JSON.stringify(rows.slice(0, 20), null, 2))
  writeFileSync(join(dir, 'users.ndjson'), rows.slice(20).map(a => JSON.stringify({ ...a, uid: String(Number(a.uid) - 20) })).join('\n') + '\n\n')
  const json = await run({ scenario, target: server.url, users: 20, iterations: 1, workers: 2, usersFile: join(dir, 'users.json'), out: null })
  t.is(json.status, 'passed', JSON.stringify(json.errors.groups))
  const ndjson = await run({ scenario, target: server.url, users: 20, iterations: 1, workers: 2, usersFile: join(dir, 'users.ndjson'), out: null })
  t.is(ndjson.status, 'passed', JSON.stringify(ndjson.errors.groups))
  t.is(server.logins.size, 40)
  t.deepEqual([...new Set(server.logins.values())], [1])
  // arrival rate: 2 users pre-allocated; iterations that last 150 ms at 60/s need more, set up as they arrive
  const slow = writeScenario(dir, 'slow.mjs', LOGIN_SCENARIO.replace("if (res.status", "await user.sleep(150)\n    if (res.status"))
  const open = await run({ scenario: slow, target: server.url, executor: 'constant-arrival-rate', rate: 60, duration: '1s', users: 2, maxUsers: 20, workers: 2, usersFile: join(dir, 'users.json'), out: null })
  t.is(open.errors.count, 0, JSON.stringify(open.errors.groups))
  t.true(open.users.allocated > 2, `allocated ${open.users.allocated}`)
  const own = open.metrics['checks{check:row of this user}']
  t.true(own?.type === 'rate' && own.fails === 0 && own.passes > 20, JSON.stringify(own))
})

test('a bad file is CT_ERR_USERS_FILE naming the problem and its line, before any load', async t => {
  const dir = tempDir(t)
  const server = await loginServer(t, [])
  const scenario = writeScenario(dir, 'login.mjs', LOGIN_SCENARIO)
  const cases: Array<[string, string, RegExp]> = [
    ['ragged.csv', 'email,password\na@x,"p1"\nb@x\n', /users file \S+ragged\.csv: Invalid Record Length: .*line 3/],
    ['quote.csv', 'email,password\na@x,p1\nb@x,"unclosed\n', /users file \S+quote\.csv: Quote Not Closed: .*line 3/],
    ['empty.csv', 'email,password\n\n', /users file \S+empty\.csv has no rows/],
    ['broken.json', '[\n {"email": "a@x"},\n {"email": "b@x" "password": "hunter2secret"}\n]', /users file \S+broken\.json: line 3: not valid JSON/],
    ['scalar.json', '[{"email": "a@x"}, 7]', /element 1 of the array is not an object/],
    ['broken.ndjson', '{"email": "a@x"}\n\n{"email": \n', /users file \S+broken\.ndjson: line 3: not valid JSON/],
    ['users.txt', 'email\n', /unknown format '\.txt'/],
    ['missing.csv', '', /missing\.csv cannot be read: no such file/]
  ]
  for (const [name, text, expected] of cases) {
    if (name !== 'missing.csv') writeFileSync(join(dir, name), text)
    const err = await t.throwsAsync(run({ scenario, target: server.url, users: 1, iterations: 1, workers: 1, usersFile: join(dir, name), out: null }))
    t.is((err as { code?: string }).code, 'CT_ERR_USERS_FILE', name)
    t.regex(err?.message ?? '', expected)
    t.false(err?.message.includes('hunter2secret'), 'no excerpt of the file')
  }
  const noPath = await t.throwsAsync(run({ scenario, target: server.url, users: 1, iterations: 1, usersFile: { reuse: true } as unknown as { path: string }, out: null }))
  t.is((noPath as { code?: string }).code, 'CT_ERR_CONFIG')
  t.regex(noPath?.message ?? '', /usersFile needs a path/)
  t.is(server.requests(), 0)
})

test('secret fields by name: their values are masked in every message, other fields stay readable', t => {
  for (const name of ['password', 'userPass', 'PWD', 'api_key', 'apiKey', 'token', 'client_secret', 'Authorization', 'cookie', 'session', 'sid', 'otp', 'pin']) t.true(isSecretField(name), name)
  for (const name of ['email', 'name', 'uid', 'role']) t.false(isSecretField(name), name)
  registerRowSecrets({ email: 'zed@example.test', password: 'correct horse 42', pin: '7', nested: { apiKey: 'k-9a8b7c' }, token: 31337 })
  t.is(redact('login failed for zed@example.test with correct horse 42'), 'login failed for zed@example.test with [redacted]')
  t.is(redact('key k-9a8b7c, code 31337, pin 7'), 'key [redacted], code [redacted], pin 7', 'a value too short to mask (1 char) is left')
})

test('a scenario that throws with a password: report.json, stdout and stderr hold the email, never the password', async t => {
  const dir = tempDir(t)
  const rows = accounts(20, 's').map(a => ({ ...a, password: `Tr0ub4dor&${a.uid}x` }))
  writeCsv(join(dir, 'users.csv'), rows)
  const server = await loginServer(t, [])
  const scenario = writeScenario(dir, 'throws.mjs', `export default defineScenario({
  name: 'throws',
  async iteration (user) {
    await user.http.post('/login', { json: { email: user.data.email, password: user.data.password } })
    throw new Error('login failed for ' + user.data.email + ' with ' + user.data.password)
  }
})`)
  const out = join(dir, 'out')
  const r = await cli(['run', scenario, '--target', server.url, '--users', '20', '--iterations', '1', '--workers', '2', '--users-file', 'users.csv', '--out', out], { cwd: dir, timeoutMs: 45_000 })
  t.is(r.code, 1, r.stderr)
  const reportText = readFileSync(join(out, 'report.json'), 'utf8')
  const report = JSON.parse(reportText) as RunResult
  t.is(report.errors.count, 20)
  const messages = report.errors.groups.map(g => g.message)
  t.true(messages.some(m => /^login failed for s\d+@example\.test with \[redacted\]$/.test(m)), messages.join('\n'))
  t.true(r.stdout.includes('@example.test with [redacted]'), r.stdout)
  for (const [name, text] of Object.entries({ 'report.json': reportText, stdout: r.stdout, stderr: r.stderr })) {
    for (const a of rows) t.false(text.includes(a.password), `${name} holds ${a.password}`)
  }
  t.is(server.logins.size, 20, 'the passwords did reach the server')
})

test('the flags: --users-file and --users-file-reuse, over a config file that gives the path alone', t => {
  const problems = new Problems()
  const path = runOptionRow('usersFile.path')!
  const reuse = runOptionRow('usersFile.reuse')!
  t.like(runOptionsFromFlags(new Map([[path, 'u.csv']]), {}, problems), { usersFile: { path: 'u.csv' } })
  t.like(runOptionsFromFlags(new Map([[reuse, true]]), { usersFile: 'from-config.csv' }, problems), { usersFile: { path: 'from-config.csv', reuse: true } })
  t.like(runOptionsFromFlags(new Map([[path, 'flag.csv']]), { usersFile: { path: 'config.csv', reuse: true } }, problems), { usersFile: { path: 'flag.csv', reuse: true } })
  t.deepEqual(problems.messages, [])
})
