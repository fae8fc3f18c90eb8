// Metric names and kinds, defined once (as k6 does). Tagged series use `name{tag:value}`.

export type MetricKind = 'counter' | 'gauge' | 'rate' | 'trend'

export const METRICS = {
  httpReqs: 'http.reqs',
  httpReqDuration: 'http.req.duration',
  httpReqFailed: 'http.req.failed',
  iterations: 'iterations',
  iterationDuration: 'iteration.duration',
  iterationDurationUncorrected: 'iteration.duration.uncorrected',
  droppedIterations: 'dropped.iterations',
  checks: 'checks',
  errors: 'errors',
  usersActive: 'users.active',
  wsSessions: 'ws.sessions',
  wsConnectDuration: 'ws.connect.duration',
  wsMessagesReceived: 'ws.messages.received',
  wsMessagesSent: 'ws.messages.sent',
  wsErrors: 'ws.errors',
  wsEventsReceived: 'ws.events.received',
  wsEventLatency: 'ws.event.latency',
  wsEventsLost: 'ws.events.lost',
  wsEventsDuplicated: 'ws.events.duplicated',
  wsEventsReordered: 'ws.events.reordered',
  wsEventsSent: 'ws.events.sent',
  wsStreamsUnreconciled: 'ws.streams.unreconciled',
  wsCloses: 'ws.closes',
  isolationViolations: 'isolation.violations',
  isolationProbes: 'isolation.probes',
  barrierTimeouts: 'barrier.timeouts',
  targetHeapUsed: 'target.heap.used',
  targetHeapSlope: 'target.heap.slope'
} as const

export type MetricName = typeof METRICS[keyof typeof METRICS]

export const METRIC_KINDS: Record<MetricName, MetricKind> = {
  'http.reqs': 'counter',
  'http.req.duration': 'trend',
  'http.req.failed': 'rate',
  iterations: 'counter',
  'iteration.duration': 'trend',
  'iteration.duration.uncorrected': 'trend',
  'dropped.iterations': 'counter',
  checks: 'rate',
  errors: 'counter',
  'users.active': 'gauge',
  'ws.sessions': 'counter',
  'ws.connect.duration': 'trend',
  'ws.messages.received': 'counter',
  'ws.messages.sent': 'counter',
  'ws.errors': 'counter',
  'ws.events.received': 'counter',
  'ws.event.latency': 'trend',
  'ws.events.lost': 'counter',
  'ws.events.duplicated': 'counter',
  'ws.events.reordered': 'counter',
  'ws.events.sent': 'counter',
  'ws.streams.unreconciled': 'counter',
  'ws.closes': 'counter',
  'isolation.violations': 'counter',
  'isolation.probes': 'counter',
  'barrier.timeouts': 'counter',
  'target.heap.used': 'gauge',
  'target.heap.slope': 'gauge'
}

/** `http.req.duration` + { name: 'get item' } -> `http.req.duration{name:get item}` */
export function taggedKey (metric: string, tag: string, value: string): string {
  return `${metric}{${tag}:${value}}`
}
