// The `isolation` scenario on the clean fixture: 1000 users, canaries everywhere, probes, bursts.
import test from 'ava'
import { loadTest } from '../../engine/ava.js'

test('isolation: 1000 users on the clean fixture see only their own data', loadTest, {
  fixture: true,
  scenario: 'isolation',
  users: 1000,
  iterations: 2,
  workers: 2,
  assert: (t, r) => {
    t.is(r.isolation.violations, 0)
    t.is(r.target.fixture?.crossUser.total, 0)
    t.true((r.metrics['isolation.probes'] as { count: number }).count === 4000)
  }
})
