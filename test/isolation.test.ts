// Isolation checking proves itself on the fixture: every planted bug (and legacy mode) is found
// with a victim/owner pair the fixture's own log confirms; the clean fixture yields nothing.
import test from 'ava'
import { startFixture, type FixtureBug, type FixtureOptions } from '../fixtures/index.js'
import { run, METRICS, type RunOptions } from '../engine/index.js'
import type { ViolationKind } from '../engine/result/index.js'
import { fixture, tempDir, writeScenario } from './support.js'

const cases: Array<{ title: string, options: FixtureOptions, kind: ViolationKind }> = [
  { title: 'legacy mode (module-level request state)', options: { mode: 'legacy' }, kind: 'foreign-data' },
  { title: 'shared-cache', options: { bugs: ['shared-cache'] }, kind: 'foreign-data' },
  { title: 'idor', options: { bugs: ['idor'] }, kind: 'foreign-access' },
  // the fixture broadcasts every 10th event: 10 events/s makes it happen within the run
  { title: 'ws-broadcast', options: { bugs: ['ws-broadcast'] as FixtureBug[], eventsPerSecond: 10 }, kind: 'foreign-event' },
  { title: 'shared-decoration', options: { bugs: ['shared-decoration'] }, kind: 'foreign-data' },
  { title: 'session-mixup', options: { bugs: ['session-mixup'] }, kind: 'foreign-data' }
]

for (const c of cases) {
  test(`${c.title} is found with 1000 users, naming a pair the fixture confirms`, async t => {
    const f = await fixture(t, c.options)
    const r = await run({ scenario: 'isolation', target: f.url, users: 1000, iterations: 2, workers: 2 })
    t.is(r.status, 'failed')
    t.true((r.isolation.byKind[c.kind] ?? 0) > 0, `byKind: ${JSON.stringify(r.isolation.byKind)}`)
    t.true(r.isolation.violations === Object.values(r.isolation.byKind).reduce((a, b) => a + b, 0))
    t.like(r.metrics[METRICS.isolationViolations], { count: r.isolation.violations })
    const samples = r.isolation.samples.filter(v => v.kind === c.kind)
    t.true(samples.length > 0)
    t.true(samples.every(v => v.user !== v.owner && /^user-\d+$/.test(v.user) && /^user-\d+$/.test(v.owner)))
    const confirmed = samples.filter(v => f.servedCrossUser(v.user, v.owner))
    t.true(confirmed.length > 0, `no sampled pair in the fixture's log: ${samples.map(v => `${v.owner}->${v.user}`).join(', ')}`)
    t.true(f.stats().crossUser.total > 0)
  })
}

test('the clean fixture gives zero violations with 1000 users, run after run', async t => {
  for (let i = 0; i < 2; i++) {
    const f = await startFixture({ eventsPerSecond: 10 }) // ws-broadcast's rate: the same event traffic
    try {
      // errors first, with their groups: on a busy machine they were the failure, not isolation
      const r = await run({ scenario: 'isolation', target: f.url, users: 1000, iterations: 2, workers: 2 })
      t.is(r.errors.count, 0, JSON.stringify(r.errors.groups.slice(0, 3)))
      t.is(r.isolation.violations, 0, JSON.stringify(r.isolation.samples.slice(0, 3)))
      t.is(r.status, 'passed', r.failures.join('; '))
      t.is(f.stats().crossUser.total, 0)
      t.like(r.metrics[METRICS.isolationProbes], { count: 1000 * 2 * 2 }, 'every probe ran')
      t.true((r.metrics[METRICS.wsMessagesReceived] as { count: number }).count >= 1000, 'frames were scanned')
    } finally {
      await f.close()
    }
  }
})

const sharedEvents = (shared: boolean): string => `export default defineScenario({
  name: 'events-${shared ? 'shared' : 'private'}',
  async setup (user) {
    await user.http.post('/login', { json: { name: user.name, note: user.canary('note') } })
    user.state.socket = await user.ws('/events', { shared: ${shared} })
  },
  async iteration (user) { await user.sleep(200); user.state.socket.drain() }
})`

test('a channel declared shared yields no violation; the same traffic undeclared does', async t => {
  const dir = tempDir(t)
  const opts = (file: string, url: string): RunOptions => ({ scenario: file, target: url, users: 200, duration: '2s', workers: 2 })
  const f1 = await fixture(t, { bugs: ['ws-broadcast'], eventsPerSecond: 10 })
  const shared = await run(opts(writeScenario(dir, 'shared.mjs', sharedEvents(true)), f1.url))
  t.true(f1.stats().crossUser.total > 0, 'other users\' events really arrived')
  t.is(shared.isolation.violations, 0)
  const f2 = await fixture(t, { bugs: ['ws-broadcast'], eventsPerSecond: 10 })
  const undeclared = await run(opts(writeScenario(dir, 'private.mjs', sharedEvents(false)), f2.url))
  t.true((undeclared.isolation.byKind['foreign-event'] ?? 0) > 0)
})

test('a forged canary (right shape, wrong HMAC) is never counted', async t => {
  const dir = tempDir(t)
  // each user writes a canary claiming the next user as owner, with this user's MAC, and reads it back
  const file = writeScenario(dir, 'forged.mjs', `export default defineScenario({
    name: 'forged',
    async setup (user) {
      await user.http.post('/login', { json: { name: user.name } })
      const mine = user.canary('forged')
      const forged = mine.replace('_' + user.id + '_forged_', '_' + (user.id + 1) + '_forged_')
      const res = await user.http.post('/items', { json: { note: forged } })
      user.state.id = res.json().id
    },
    async iteration (user) {
      const res = await user.http.get('/items/' + user.state.id)
      user.check(res.status === 200 && res.json().note.includes('_forged_'), 'forged canary came back')
    }
  })`)
  const f = await fixture(t, {})
  const r = await run({ scenario: file, target: f.url, users: 100, iterations: 3, workers: 2 })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.is(r.isolation.violations, 0)
  t.is(r.isolation.forgedCanaries, 100 * 4, 'every forged canary was seen (create + 3 reads) and rejected')
})

test('a burst barrier holds every user on every thread until all arrived', async t => {
  const dir = tempDir(t)
  const users = 200
  // every user writes, meets the others at the barrier, then reads the server's own request count:
  // it must already include every user's write of this round (GET /stats is not counted)
  const file = writeScenario(dir, 'burst.mjs', `export default defineScenario({
    name: 'burst',
    async setup (user) { await user.http.post('/login', { json: { name: user.name } }) },
    async iteration (user) {
      await user.http.post('/items', { json: { note: 'x' } })
      const outcome = await user.barrier('round')
      const stats = (await user.http.get('/stats')).json()
      user.check(outcome === 'released', 'released, not timed out')
      user.check(stats.requests >= ${users} * (user.iterations + 2), 'all writes of the round happened before the release')
    }
  })`)
  const f = await fixture(t, {})
  const r = await run({ scenario: file, target: f.url, users, iterations: 4, workers: 2 })
  t.is(r.status, 'passed', r.failures.join('; '))
  t.is(r.workers.threads, 2)
  t.like(r.metrics[METRICS.checks], { fails: 0, passes: users * 4 * 2 })
  t.false(METRICS.barrierTimeouts in r.metrics, 'no barrier timed out')
})
