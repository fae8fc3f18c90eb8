// The `events-rate` scenario: 1000 users hold live sockets; dispatch rate and latency are reported.
import test from 'ava'
import { loadTest } from '../../engine/ava.js'
import { METRICS } from '../../engine/index.js'

test('events-rate: 1000 sockets, dispatch rate and latency percentiles, nothing lost', loadTest, {
  scenario: 'events-rate',
  users: 1000,
  duration: '3s',
  workers: 2,
  fixture: { eventRate: 5000 },
  assert: (t, r) => {
    t.is(r.target.fixture?.peakOpenWebSockets, 1000)
    t.is(r.events.received, r.events.sent)
    t.is(r.events.lost, 0)
    const received = r.metrics[METRICS.wsEventsReceived]
    t.true(received?.type === 'counter' && received.rate > 1000, `dispatch rate ${JSON.stringify(received)}`)
    const latency = r.metrics[METRICS.wsEventLatency]
    t.true(latency?.type === 'trend' && latency.count === r.events.received && latency.p95 >= latency.med)
  }
})
