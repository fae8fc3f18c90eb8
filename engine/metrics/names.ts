// Every metric crosstalk records, defined once (as k6 does): name, kind, unit and description.
// METRICS, the kind and unit lookups and README's Metrics table all follow this one table
// (test/metrics-table.test.ts checks the README). Tagged series use `name{tag:value}`.

export const METRIC_KIND_LIST = ['counter', 'gauge', 'rate', 'trend'] as const
export type MetricKind = typeof METRIC_KIND_LIST[number]

/** What one unit of a value is: ms for trends, the thing counted for counters, `share` (0..1) for rates. */
export type MetricUnit =
  | 'ms' | 'bytes' | 'bytes/op' | 'share' | 'requests' | 'iterations' | 'errors' | 'users'
  | 'sessions' | 'messages' | 'events' | 'streams' | 'closes' | 'violations' | 'probes' | 'barriers'
  | 'disconnects' | 'reads' | 'outages'

export interface MetricDefinition {
  name: string
  kind: MetricKind
  unit: MetricUnit
  /** one line, shown in README's Metrics table */
  description: string
}

export const METRIC_TABLE = {
  httpReqs: { name: 'http.reqs', kind: 'counter', unit: 'requests', description: 'HTTP requests sent; per request name too: `http.reqs{name:get item}`' },
  httpReqDuration: { name: 'http.req.duration', kind: 'trend', unit: 'ms', description: 'dispatch to last body byte; per name too' },
  httpReqFailed: { name: 'http.req.failed', kind: 'rate', unit: 'share', description: 'share of failed requests (status >= 400 unless `expect`, or transport error)' },
  httpConnectTimeouts: { name: 'http.connect.timeouts', kind: 'counter', unit: 'requests', description: 'requests that timed out (connect or response headers) on a connection that had not answered yet: the server did not take new connections in time' },
  httpBodyDiscarded: { name: 'http.body.discarded', kind: 'counter', unit: 'bytes', description: 'response body bytes beyond `--max-body`: received and counted, neither kept nor scanned' },
  iterations: { name: 'iterations', kind: 'counter', unit: 'iterations', description: 'completed iterations' },
  iterationDuration: { name: 'iteration.duration', kind: 'trend', unit: 'ms', description: 'successful iterations; open model: from the intended start (coordinated omission corrected)' },
  iterationDurationUncorrected: { name: 'iteration.duration.uncorrected', kind: 'trend', unit: 'ms', description: 'open model: from the actual start' },
  droppedIterations: { name: 'dropped.iterations', kind: 'counter', unit: 'iterations', description: 'open model: arrivals that found no free user and no room for one' },
  checks: { name: 'checks', kind: 'rate', unit: 'share', description: 'share of passing checks; per check: `checks{check:<name>}`' },
  groupDuration: { name: 'group.duration', kind: 'trend', unit: 'ms', description: "`user.group(name, fn)`: fn's duration, thrown or not; per group: `group.duration{group:checkout}` (nested: `{group:outer::inner}`)" },
  errors: { name: 'errors', kind: 'counter', unit: 'errors', description: 'iteration, setup and teardown errors' },
  usersActive: { name: 'users.active', kind: 'gauge', unit: 'users', description: 'users in the load phase (open model: busy in an iteration)' },
  wsSessions: { name: 'ws.sessions', kind: 'counter', unit: 'sessions', description: 'WebSocket connections opened' },
  wsConnectDuration: { name: 'ws.connect.duration', kind: 'trend', unit: 'ms', description: 'WebSocket handshake' },
  wsMessagesReceived: { name: 'ws.messages.received', kind: 'counter', unit: 'messages', description: 'WebSocket messages received' },
  wsMessagesSent: { name: 'ws.messages.sent', kind: 'counter', unit: 'messages', description: 'WebSocket messages sent' },
  wsErrors: { name: 'ws.errors', kind: 'counter', unit: 'errors', description: 'WebSocket errors, failed handshakes included' },
  wsBytesReceived: { name: 'ws.bytes.received', kind: 'counter', unit: 'bytes', description: 'WebSocket payload bytes received' },
  wsFrameInterval: { name: 'ws.frame.interval', kind: 'trend', unit: 'ms', description: 'time between two frames received on one socket' },
  wsReplyDuration: { name: 'ws.reply.duration', kind: 'trend', unit: 'ms', description: '`socket.request()`: from the send to the matching reply; per name too: `ws.reply.duration{name:join}`' },
  wsEventsReceived: { name: 'ws.events.received', kind: 'counter', unit: 'events', description: 'events accounted (frames read by extractors or the crosstalk protocol, Socket.IO events with extractors; duplicates included)' },
  wsEventLatency: { name: 'ws.event.latency', kind: 'trend', unit: 'ms', description: "receive time minus the server's send stamp" },
  wsEventsLost: { name: 'ws.events.lost', kind: 'counter', unit: 'events', description: "events never received: gaps per stream, reconciled at the end with the server's account" },
  wsEventsDuplicated: { name: 'ws.events.duplicated', kind: 'counter', unit: 'events', description: 'events received again (same stream and seq)' },
  wsEventsReordered: { name: 'ws.events.reordered', kind: 'counter', unit: 'events', description: 'events that arrived after a later event of their stream' },
  wsEventsSent: { name: 'ws.events.sent', kind: 'counter', unit: 'events', description: 'events the servers say they assigned to the sockets, in their end replies' },
  wsStreamsUnreconciled: { name: 'ws.streams.unreconciled', kind: 'counter', unit: 'streams', description: 'streams whose server never declared what it sent' },
  wsCloses: { name: 'ws.closes', kind: 'counter', unit: 'closes', description: 'WebSocket closes; per close code: `ws.closes{code:1000}`' },
  ioSessions: { name: 'io.sessions', kind: 'counter', unit: 'sessions', description: 'Socket.IO connections made (`user.io()`)' },
  ioConnectDuration: { name: 'io.connect.duration', kind: 'trend', unit: 'ms', description: 'Socket.IO connect, handshake and namespace included' },
  ioEventsReceived: { name: 'io.events.received', kind: 'counter', unit: 'events', description: 'Socket.IO events received; per event: `io.events.received{event:chat}`' },
  ioEventsSent: { name: 'io.events.sent', kind: 'counter', unit: 'events', description: 'Socket.IO events emitted; per event too' },
  ioAckDuration: { name: 'io.ack.duration', kind: 'trend', unit: 'ms', description: '`emitWithAck()`: from the emit to the ack; per event: `io.ack.duration{event:join}`' },
  ioDisconnects: { name: 'io.disconnects', kind: 'counter', unit: 'disconnects', description: 'Socket.IO disconnects; per reason: `io.disconnects{reason:transport close}`' },
  ioErrors: { name: 'io.errors', kind: 'counter', unit: 'errors', description: 'Socket.IO connect errors and ack timeouts' },
  isolationViolations: { name: 'isolation.violations', kind: 'counter', unit: 'violations', description: "a user saw another user's data or events; per kind too: `isolation.violations{kind:foreign-event}`" },
  isolationProbes: { name: 'isolation.probes', kind: 'counter', unit: 'probes', description: 'isolation probes sent; per outcome: `isolation.probes{result:denied}`, `{result:violation}`, `{result:caller-data}`, `{result:unexpected}`, `{result:skipped}`' },
  isolationStaleReads: { name: 'isolation.stale.reads', kind: 'counter', unit: 'reads', description: "`writes.verify` reads that showed the reader's own older write (not violations); beyond `maxStaleMs`: `isolation.stale.reads{budget:exceeded}`" },
  barrierTimeouts: { name: 'barrier.timeouts', kind: 'counter', unit: 'barriers', description: 'burst barriers broken by a missing user' },
  outages: { name: 'outages', kind: 'counter', unit: 'outages', description: 'windows in which the target failed: consecutive seconds with over half of the requests failed, or none succeeded (see Outages)' },
  outageDuration: { name: 'outage.duration', kind: 'gauge', unit: 'ms', description: "each outage's length, from its first failed request to the first success after it (max: the longest); absent without outages, read as 0 by thresholds" },
  outageDetect: { name: 'outage.detect', kind: 'gauge', unit: 'ms', description: 'from the first failed request of an outage to the end of its first failed second, when it was known' },
  outageRecovery: { name: 'outage.recovery', kind: 'gauge', unit: 'ms', description: 'from the first success after an outage to throughput back at 90% of the pre-outage median; an outage never recovered counts until the load ended' },
  targetHeapUsed: { name: 'target.heap.used', kind: 'gauge', unit: 'bytes', description: "the target's heap after a full GC" },
  targetHeapSlope: { name: 'target.heap.slope', kind: 'gauge', unit: 'bytes/op', description: "the Theil-Sen slope of the target's heap against operations" }
} as const satisfies Record<string, MetricDefinition>

type MetricTable = typeof METRIC_TABLE

/** `METRICS.httpReqs` -> `'http.reqs'`, the names code records under. */
export const METRICS = Object.fromEntries(
  Object.entries(METRIC_TABLE).map(([key, d]) => [key, d.name])
) as { readonly [K in keyof MetricTable]: MetricTable[K]['name'] }

export type MetricName = MetricTable[keyof MetricTable]['name']

/** Each metric's definition by its name. */
export const METRIC_DEFINITIONS: Readonly<Record<MetricName, MetricDefinition>> = Object.fromEntries(
  Object.values(METRIC_TABLE).map(d => [d.name, d])
) as Record<MetricName, MetricDefinition>

export function isMetricName (name: string): name is MetricName {
  return Object.hasOwn(METRIC_DEFINITIONS, name)
}

/** The definition of a metric name or tagged key (`http.req.duration{name:get item}`), if known. */
export function metricDefinition (key: string): MetricDefinition | undefined {
  const open = key.indexOf('{')
  const name = open === -1 ? key : key.slice(0, open)
  return isMetricName(name) ? METRIC_DEFINITIONS[name] : undefined
}

/** `http.req.duration` + { name: 'get item' } -> `http.req.duration{name:get item}` */
export function taggedKey (metric: string, tag: string, value: string): string {
  return `${metric}{${tag}:${value}}`
}

// Tag names are identifiers; a value may hold anything but a `,<name>:` sequence (which starts the
// next tag). Keys with several tags list them sorted by name, so one tag set has one key.
const TAG_START = /,(?=[A-Za-z_][\w.-]*:)/

/** `metric` + tags -> `metric{a:x,b:y}` (tags sorted by name; no tags: the bare metric). */
export function metricKey (metric: string, tags: Readonly<Record<string, string>>): string {
  const names = Object.keys(tags)
  if (names.length === 0) return metric
  names.sort()
  return `${metric}{${names.map(n => `${n}:${tags[n]}`).join(',')}}`
}

/** `http.req.duration{name:get item,scenario:chat}` -> { metric, tags }; an untagged key has no tags. */
export function splitKey (key: string): { metric: string, tags: Record<string, string> } {
  const open = key.indexOf('{')
  if (open === -1 || !key.endsWith('}')) return { metric: key, tags: {} }
  const tags: Record<string, string> = {}
  for (const part of key.slice(open + 1, -1).split(TAG_START)) {
    const colon = part.indexOf(':')
    if (colon <= 0) return { metric: key, tags: {} }
    tags[part.slice(0, colon)] = part.slice(colon + 1)
  }
  return { metric: key.slice(0, open), tags }
}

/** The same key with one more tag (or that tag's value replaced): `withTag('http.reqs{name:a}', 'scenario', 'chat')`. */
export function withTag (key: string, tag: string, value: string): string {
  const { metric, tags } = splitKey(key)
  return metricKey(metric, { ...tags, [tag]: value })
}
