// Stream accounting when one socket interleaves several streams (the tracker remembers the last
// stream to skip its lookup): gaps, repeats and late arrivals counted per stream, and stream ids
// '1' and 1 kept apart, as the Map keeps them.
import test from 'ava'
import { EventTracker } from '../engine/streams/event-tracker.js'
import { METRICS, MetricsRecorder } from '../engine/metrics/index.js'

test('interleaved streams are accounted each on its own', t => {
  const rec = new MetricsRecorder()
  const tracker = new EventTracker(rec)
  const events: Array<[string | number, number]> = [
    ['a', 1], ['b', 1], ['a', 2], ['1', 1], [1, 1], ['b', 3], ['a', 2], ['b', 2], ['1', 2],
    [1, 3], [1, 2], ['1', 2], ['a', 4], ['b', 4], ['a', 3], ['b', 6]
  ]
  for (const [stream, seq] of events) tracker.onEvent(stream, seq, undefined, 0)
  const totals = tracker.reconcile(undefined, false)
  t.is(rec.counter(METRICS.wsEventsReceived).value, events.length)
  t.is(rec.counter(METRICS.wsEventsDuplicated).value, 2, "a2 and '1'2 again")
  t.is(rec.counter(METRICS.wsEventsReordered).value, 3, 'b2, 1:2 and a3 late')
  t.is(totals.lost, 1, 'b5 never came')
})

test('a server\'s ranges reconcile every interleaved stream', t => {
  const rec = new MetricsRecorder()
  const tracker = new EventTracker(rec)
  for (let seq = 1; seq <= 5; seq++) {
    tracker.onEvent('x', seq, undefined, 0)
    if (seq !== 3) tracker.onEvent(7, seq, undefined, 0)
  }
  const totals = tracker.reconcile({ x: { first: 1, last: 6 }, 7: { first: 1, last: 5 } })
  t.deepEqual(totals, { sent: 11, lost: 2, unreconciled: 0 })
})
