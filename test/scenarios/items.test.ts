// The `items` scenario with 1000 users: the engine's counts equal the server's own, exactly.
import test from 'ava'
import { loadTest } from '../../engine/ava.js'
import { METRICS } from '../../engine/index.js'

const USERS = 1000
const ITERATIONS = 3
// per user: login + create item (setup), get + put + list per iteration, logout (teardown)
const REQUESTS_PER_USER = 2 + 3 * ITERATIONS + 1

test('items: 1000 users, per-user and total request counts match the fixture exactly', loadTest, {
  fixture: true,
  scenario: 'items',
  users: USERS,
  iterations: ITERATIONS,
  workers: 2,
  assert: (t, r) => {
    const fixture = r.target.fixture
    if (fixture === undefined) return t.fail('fixture stats missing')
    t.is(r.users.completed, USERS)
    t.is(r.users.peakActive, USERS)
    t.is(r.workers.threads, 2, 'cohorts ran on both worker threads')
    t.like(r.metrics[METRICS.httpReqs], { type: 'counter', count: USERS * REQUESTS_PER_USER })
    t.is(fixture.requests, USERS * REQUESTS_PER_USER)
    t.like(r.metrics[METRICS.iterations], { count: USERS * ITERATIONS })
    const wrong = Object.entries(fixture.requestsByUser).filter(([, n]) => n !== REQUESTS_PER_USER)
    t.deepEqual(wrong, [], 'every user made exactly its planned requests')
    t.is(Object.keys(fixture.requestsByUser).length, USERS)
    for (const name of ['get item', 'update item', 'list items']) {
      t.like(r.metrics[`${METRICS.httpReqs}{name:${name}}`], { count: USERS * ITERATIONS }, name)
    }
    // the per-second series adds up to the totals
    const perSecond = r.timeSeries.reduce((n, p) => n + (p.counters[METRICS.httpReqs] ?? 0), 0)
    t.is(perSecond, USERS * REQUESTS_PER_USER)
  }
})
