// The `events` scenario: 1000 users each hold a live WebSocket at the same time.
import test from 'ava'
import { loadTest } from '../../engine/ava.js'
import { METRICS } from '../../engine/index.js'

test('events: 1000 simultaneous users with live WebSockets over two worker threads', loadTest, {
  scenario: 'events',
  users: 1000,
  duration: '3s',
  workers: 2,
  fixture: { eventsPerSecond: 2 },
  assert: (t, r) => {
    const fixture = r.target.fixture
    if (fixture === undefined) return t.fail('fixture stats missing')
    t.true(fixture.peakOpenSockets >= 1000, `server peak open sockets ${fixture.peakOpenSockets}`)
    t.is(fixture.peakOpenWebSockets, 1000)
    t.is(r.users.peakActive, 1000)
    t.is(r.workers.threads, 2)
    t.like(r.metrics[METRICS.wsSessions], { count: 1000 })
    t.like(r.metrics[METRICS.wsConnectDuration], { type: 'trend', count: 1000 })
    const checks = r.metrics[`${METRICS.checks}{check:event is own}`]
    t.true(checks?.type === 'rate' && checks.passes >= 1000 && checks.fails === 0)
  }
})
