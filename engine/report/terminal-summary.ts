// The end-of-run summary printed to the terminal and logged by the ava macro.
import { metricDefinition } from '../metrics/index.js'
import type { CheckFailure, ErrorGroup, LeakReport, MetricSummary, RunResult } from '../result/index.js'
import { redact, redactUrl } from '../shared/index.js'
import { formatThresholdLines } from '../thresholds/index.js'
import { heapDiffLines } from './heap-diff-lines.js'
import { outageLines } from './outage-lines.js'

const WIDTH = 34

function ms (v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`
  if (v >= 10) return `${v.toFixed(1)}ms`
  return `${v.toFixed(2)}ms`
}

function num (v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function mib (bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

function pct (v: number): string {
  return `${(v * 100).toFixed(2)}%`
}

/** A value in its metric's unit (from the metric table): ms as ms or s, anything else with its unit. */
function inUnit (v: number, unit: string | undefined): string {
  if (unit === 'ms') return ms(v)
  return unit === undefined ? num(v) : `${num(v)} ${unit}`
}

function line (label: string, value: string): string {
  const dots = Math.max(2, WIDTH - label.length)
  return `  ${label} ${'.'.repeat(dots)} ${value}`
}

function metricValue (key: string, m: MetricSummary, custom: RunResult['customMetrics']): string {
  const own = customDefinition(key, custom)
  const unit = metricDefinition(key)?.unit ?? own?.unit
  switch (m.type) {
    case 'trend': {
      // a trend the table does not know is a duration, as every trend recorded today is
      const v = (x: number): string => inUnit(x, unit ?? 'ms')
      return `avg=${v(m.avg)} min=${v(m.min)} med=${v(m.med)} p(90)=${v(m.p90)} p(95)=${v(m.p95)} p(99)=${v(m.p99)} max=${v(m.max)} (${num(m.count)})`
    }
    case 'counter':
      // a custom counter says what it counts (the built-ins' units are in their names)
      return own?.unit === undefined ? `${num(m.count)}  ${num(m.rate)}/s` : `${num(m.count)} ${own.unit}  ${num(m.rate)}/s`
    case 'rate': {
      const total = m.passes + m.fails
      // http.req.failed counts failures as its "passes" (k6 semantics: the share of true values)
      return key.startsWith('http.req.failed')
        ? `${pct(m.rate)}  ${num(m.passes)} failed of ${num(total)}`
        : `${pct(m.rate)}  ${num(m.passes)} passed, ${num(m.fails)} failed`
    }
    case 'gauge':
      return `peak ${inUnit(m.max, unit)}  (min ${num(m.min)}, at the end ${num(m.value)})`
  }
}

function executorLine (r: RunResult): string {
  const e = r.executor
  const params = Object.entries(e)
    .filter(([k, v]) => k !== 'name' && k !== 'model' && k !== 'profile' && v !== null && v !== undefined)
    .map(([k, v]) => `${k} ${k.endsWith('Ms') && typeof v === 'number' ? `${v / 1000}s` : String(v)}`)
  return `${e.name} (${e.model} model)${params.length > 0 ? ': ' + params.join(', ').replace(/Ms /g, ' ') : ''}`
}

/** What an error group is about, before its sample message: `CT_ERR_HTTP ECONNREFUSED GET /items/:id 500: ` */
export function errorCause (g: ErrorGroup): string {
  const parts = [g.code, g.cause, g.method, g.route, g.status === undefined ? undefined : String(g.status)].filter(p => p !== undefined)
  return parts.length > 0 ? `${parts.join(' ')}: ` : ''
}

function isolationLines (r: RunResult): string[] {
  const iso = r.isolation
  const out: string[] = []
  if (iso.violations === 0) {
    out.push(`  isolation: no user saw another user's data or events${iso.forgedCanaries > 0 ? ` (${num(iso.forgedCanaries)} forged canaries ignored)` : ''}`)
  } else {
    const kinds = Object.entries(iso.byKind).map(([k, n]) => `${k} ${num(n)}`).join(', ')
    out.push(`  isolation: ${num(iso.incidents)} INCIDENTS (${num(iso.violations)} violations: ${kinds})`)
    for (const v of iso.samples.slice(0, 8)) {
      const where = v.where.channel !== undefined ? `ws ${v.where.channel}` : `${v.where.method ?? ''} ${v.where.path ?? ''}`.trim()
      out.push(`    ${v.kind}: ${v.user} got ${v.owner}'s data · ${where} ${v.where.part}${v.where.header !== undefined ? ` ${v.where.header}` : ''} · ${v.excerpt}`)
    }
  }
  const cd = iso.callerData
  if (cd.probes > 0) {
    const route = cd.routes[0] ?? ''
    const path = route.slice(route.indexOf(' ') + 1)
    out.push(`    caller data: ${num(cd.probes)} probes (not violations) on ${cd.routes.join(', ')}: probe.asOther('${path}') got the credential owner's own data: the route serves the caller's data, so asOther tests nothing there; use probe.foreign with a :param path`)
  }
  const st = iso.staleReads
  if (st.count > 0) {
    const worst = st.samples.reduce((m, x) => Math.max(m, x.staleByMs), 0)
    out.push(`    stale reads: ${num(st.count)} reads showed the reader's own older write (not violations)${st.beyondBudget > 0 ? `, ${num(st.beyondBudget)} beyond maxStaleMs (failed checks)` : ', all within maxStaleMs'}; sampled up to ${num(worst)} ms stale`)
  }
  return out
}

/**
 * Why a run failed, for a test runner's failure message: the scenario file, then each failure
 * with where it happened (failed checks with their line, failed thresholds with their value,
 * isolation samples, the largest error groups). Empty when the run passed.
 */
export function formatFailureReport (r: RunResult): string {
  if (r.status === 'passed') return ''
  const out = [`scenario ${r.scenario.name} (${r.scenario.source}) ${r.status}`]
  for (const f of r.failures) out.push(`  ${redact(f)}`)
  for (const c of r.checkFailures.slice(0, 5)) out.push(`  check ${checkFailureLine(c)}`)
  const failed = r.thresholds.filter(th => !th.passed)
  if (failed.length > 0) out.push(...formatThresholdLines(failed).map(l => `  threshold${l.slice(1)}`))
  for (const v of r.isolation.samples.slice(0, 3)) {
    const where = v.where.channel !== undefined ? `ws ${v.where.channel}` : `${v.where.method ?? ''} ${v.where.path ?? ''}`.trim()
    out.push(`  isolation ${v.kind}: ${v.user} got ${v.owner}'s data · ${where} ${v.where.part} · ${v.excerpt}`)
  }
  for (const g of r.errors.groups.slice(0, 3)) out.push(`  error ${num(g.count)}× ${g.phase}: ${errorCause(g)}${redact(g.message)}${g.at === undefined ? '' : ` (at ${g.at})`}`)
  return out.join('\n')
}

/** `'item created' failed 12 of 1,000 (first: user-17 after POST /items, at scenario.ts:14:7)` */
export function checkFailureLine (c: CheckFailure): string {
  const where = [c.first.request !== undefined ? `after ${c.first.request}` : undefined, c.first.at !== undefined ? `at ${c.first.at}` : undefined].filter(w => w !== undefined)
  return `'${c.check}' failed ${num(c.fails)} of ${num(c.total)} (first: ${c.first.user}${where.length > 0 ? ` ${where.join(', ')}` : ''})`
}

/** A custom metric's definition by key (`write.to.event{step:a}` is `write.to.event`'s). */
function customDefinition (key: string, custom: RunResult['customMetrics']): { unit?: string } | undefined {
  if (custom === undefined) return undefined
  const brace = key.indexOf('{')
  const name = brace === -1 ? key : key.slice(0, brace)
  return Object.hasOwn(custom, name) ? custom[name] : undefined
}

/** Warnings for request names and tag values folded into `(other)` past the cap. */
function foldedLines (names: RunResult['requestNames']): string[] {
  const out: string[] = []
  if (names.folded !== undefined) {
    out.push('', `  request names: WARNING ${num(names.folded.names)} names beyond the cap of ${num(names.cap)} (maxRequestNames) were folded into (other), ${num(names.folded.requests)} requests, e.g. '${redact(names.folded.example)}': name requests after their route ('get /items/:id'), not their concrete path`)
  }
  for (const [tag, f] of Object.entries(names.foldedTags ?? {})) {
    out.push('', `  tag ${tag}: WARNING ${num(f.values)} values beyond the cap of ${num(names.cap)} (maxRequestNames) were folded into (other), e.g. '${redact(f.example)}': tag with a few categories, not per user or per resource`)
  }
  return out
}

/** One line per metric; a tagged key goes under its metric's line, or keeps its name when the metric has no untagged line. */
function metricLines (metrics: RunResult['metrics'], custom?: RunResult['customMetrics']): string[] {
  const out: string[] = []
  let base = ''
  for (const key of Object.keys(metrics)) {
    const brace = key.indexOf('{')
    const name = brace === -1 ? key : key.slice(0, brace)
    out.push(line(brace !== -1 && name === base ? `  ${key.slice(brace)}` : key, metricValue(key, metrics[key]!, custom)))
    if (brace === -1 || name !== base) base = brace === -1 ? key : ''
  }
  return out
}

/** A shard's place in its run, or the shards a merged report was made from. */
function distributedLine (r: RunResult): string | undefined {
  if (r.shard !== undefined) {
    const ids = r.shard.users.map(u => `${u.scenario === undefined ? '' : `${u.scenario} `}${num(u.from)}-${num(u.to - 1)}`).join(', ')
    return `shard ${r.shard.index}/${r.shard.count} of run ${r.runId} · users ${ids} · merge every shard's report.json with \`crosstalk merge\``
  }
  const m = r.mergedFrom
  if (m === undefined) return undefined
  const spread = Math.max(...m.shards.map(s => s.startOffsetMs))
  return `merged from ${m.shards.length} shards of run ${r.runId} (${m.shards.map(s => `${s.index}: ${s.status}`).join(', ')}) · load starts within ${num(spread)} ms`
}

export function formatSummary (r: RunResult, reportPath?: string): string {
  const out: string[] = []
  const load = (r.loadDurationMs / 1000).toFixed(1)
  out.push(`crosstalk · scenario ${r.scenario.name} · ${num(r.users.peakActive)} users · ${r.workers.threads} worker thread${r.workers.threads === 1 ? '' : 's'} · ${load}s load`)
  out.push(`  status ${r.status.toUpperCase()}${r.failures.length > 0 ? ': ' + redact(r.failures.join('; ')) : ''}`)
  if (r.stopReason === 'max-duration') out.push(`  stopped by --max-duration after ${load}s of load, before every user finished its iterations`)
  out.push(`  executor ${executorLine(r)}`)
  const dist = distributedLine(r)
  if (dist !== undefined) out.push(`  ${dist}`)
  out.push(`  users  planned ${num(r.users.planned)}${r.users.allocated !== r.users.planned ? ` · set up ${num(r.users.allocated)}` : ''} · peak active ${num(r.users.peakActive)} · completed ${num(r.users.completed)} · lost ${num(r.users.lost)}${r.users.interrupted > 0 ? ` · interrupted ${num(r.users.interrupted)}` : ''}`)
  out.push(...scenarioLines(r))
  out.push('')
  out.push(...metricLines(r.metrics, r.customMetrics))
  if (r.thresholds.length > 0) {
    out.push('')
    out.push(`  thresholds (${r.thresholds.filter(t => t.passed).length} of ${r.thresholds.length} passed)`)
    out.push(...formatThresholdLines(r.thresholds).map(l => `  ${redact(l)}`))
  }
  const outages = outageLines(r)
  if (outages.length > 0) out.push('', ...outages.map(l => `  ${l}`))
  const bp = r.breakpoint
  if (bp !== undefined) {
    out.push('')
    out.push(bp.broke
      ? `  breakpoint: broke after ${bp.atS}s of load at ${num(bp.targetRate ?? 0)} iterations/s planned (${num(bp.achievedRate ?? 0)} achieved, ${num(bp.activeUsers ?? 0)} users busy): ${bp.reason}`
      : '  breakpoint: not reached: every threshold held up to the top of the ramp')
  }
  const ev = r.events
  if (ev.received > 0 || ev.sent > 0) {
    const lat = r.metrics['ws.event.latency']
    const latency = lat?.type === 'trend' ? ` · latency med ${ms(lat.med)} p(95) ${ms(lat.p95)} p(99) ${ms(lat.p99)}` : ''
    const rate = r.loadDurationMs > 0 ? ` (${num(Math.round(ev.received / (r.loadDurationMs / 1000)))}/s)` : ''
    out.push('')
    out.push(`  events: received ${num(ev.received)}${rate} of ${num(ev.sent)} sent · lost ${num(ev.lost)} · duplicated ${num(ev.duplicated)} · reordered ${num(ev.reordered)}${ev.unreconciled > 0 ? ` · ${num(ev.unreconciled)} streams unreconciled` : ''}${latency}`)
  }
  const lk = r.leaks
  if (lk !== undefined) {
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`
    const first = lk.samples[0]
    const last = lk.samples.at(-1)
    out.push('')
    out.push(`  leaks: ${lk.verdict.toUpperCase()} · ${Math.round(lk.bytesPerOp)} B/op (95% CI ${Math.round(lk.ciLow)}..${Math.round(lk.ciHigh)}) · ${lk.mbPerMillionOps.toFixed(1)} MB per million ops · ${lk.samples.length} readings (${lk.backend})${first !== undefined && last !== undefined ? ` · heap ${mb(first.usedBytes)} -> ${mb(last.usedBytes)}` : ''}`)
    out.push(`    ${lk.reason}`, ...leakFigureLines(lk))
    if (lk.note !== undefined) out.push(`    note: ${lk.note}`)
    for (const s of lk.suspects.slice(0, 3)) out.push(`    suspect: ${s.name}${s.site !== undefined ? ` (${s.site})` : ''} +${mb(s.bytesDelta)} · ${s.bytesPerOp} B/op`)
    out.push(...heapDiffLines(lk.diff), ...(lk.snapshots ?? []).map(f => `    heap snapshot: ${f}`))
  }
  if (r.cpuProfile !== undefined) out.push(`  cpu profile: ${r.cpuProfile}`)
  out.push('', ...isolationLines(r))
  out.push(...foldedLines(r.requestNames))
  if (r.checkFailures.length > 0) {
    out.push('')
    out.push('  failed checks')
    for (const c of r.checkFailures.slice(0, 10)) out.push(`    ${checkFailureLine(c)}`)
  }
  if (r.errors.groups.length > 0) {
    out.push('')
    out.push(`  errors (${num(r.errors.count)})`)
    for (const g of r.errors.groups.slice(0, 10)) {
      out.push(`    ${num(g.count)}× ${g.phase}: ${errorCause(g)}${redact(g.message)} (first: ${g.user}${g.at === undefined ? '' : `, at ${g.at}`})`)
    }
  }
  if (r.hints.length > 0) {
    out.push('')
    for (const h of r.hints) out.push(`  hint: ${h}`)
  }
  if (r.selfCheck.retained > 0) {
    out.push('')
    out.push(`  self-check: ${num(r.selfCheck.retained)} of ${num(r.selfCheck.checked)} user contexts and sockets were still reachable after teardown (kept by the scenario's module state or an unfinished iteration)`)
  }
  out.push('')
  const f = r.target.fixture
  const c = r.target.command
  const started = c === undefined ? '' : ` (started 'cmd:${c.command}', pid ${c.pid}: listening after ${num(c.startMs)} ms${c.rssBytes === undefined ? '' : `, RSS ${mib(c.rssBytes)} after start`})`
  out.push(`  target ${redactUrl(r.target.url)}${f !== undefined ? ` (fixture ${f.process}: ${num(f.requests)} requests, peak ${num(f.peakOpenSockets)} sockets, peak ${num(f.peakOpenWebSockets)} WebSockets)` : ''}${started}`)
  if (reportPath !== undefined) out.push(`  report ${reportPath}`)
  return out.join('\n')
}

/** The seed figures and what the readings cost, two lines under the verdict. */
function leakFigureLines (lk: LeakReport): string[] {
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`
  const f = lk.figures
  const g = f.growthPer1kOps
  const kb = (b: number): string => `${(b / 1024).toFixed(1)}`
  const gc = f.gcEffectiveness === null ? '' : ` · a forced GC recovers ${pct(f.gcEffectiveness.median)} of the heap (median; ${pct(f.gcEffectiveness.min)}..${pct(f.gcEffectiveness.max)})`
  const r = lk.readings
  const how = r.mode === 'quiet'
    ? `quiet readings (${r.quiet} quiet${r.notQuiet > 0 ? `, ${r.notQuiet} whose drain wait ran out` : ''}): new iterations held ${num(r.pausedMs)} ms in all (${pct(r.heldShare)} of the load, longest ${num(r.maxPauseMs)} ms), nothing in flight ${num(r.idleMs)} ms: throughput cost ${pct(r.throughputCost)}`
    : 'readings under load (not paused)'
  return [
    `    growth ${kb(g.bytes)} KB per 1K ops (95% CI ${kb(g.ciLow)}..${kb(g.ciHigh)})${gc} · peak ${mb(f.peakBytes)} · final ${mb(f.finalBytes)} · noise ±${mb(f.noiseBytes)}`,
    `    ${how} · readings ${r.cadence}`
  ]
}

/**
 * A plan of several scenarios: a block per scenario (its executor, users, untagged metrics and
 * thresholds) before the run's overall figures.
 */
function scenarioLines (r: RunResult): string[] {
  const out: string[] = []
  for (const [name, sc] of Object.entries(r.scenarios ?? {})) {
    const u = sc.users
    const failed = sc.thresholds.filter(t => !t.passed).length
    const verdict = sc.thresholds.length === 0 ? '' : failed > 0 ? ` · ${failed} of ${sc.thresholds.length} thresholds FAILED` : ` · ${sc.thresholds.length} thresholds passed`
    out.push('', `  scenario ${name} (${sc.scenario.name})${verdict}`)
    out.push(`    executor ${executorLine({ executor: sc.executor } as RunResult)}${sc.startTimeMs > 0 ? ` · starts ${sc.startTimeMs / 1000}s after the others' start` : ''}`)
    out.push(`    users  planned ${num(u.planned)} · peak active ${num(u.peakActive)} · completed ${num(u.completed)} · lost ${num(u.lost)}${u.interrupted > 0 ? ` · interrupted ${num(u.interrupted)}` : ''} · ${num(sc.errors)} errors`)
    const untagged = Object.fromEntries(Object.entries(sc.metrics).filter(([k]) => !k.includes('{')))
    out.push(...metricLines(untagged).map(l => `  ${l}`))
    if (sc.thresholds.length > 0) out.push(...formatThresholdLines(sc.thresholds).map(l => `    ${redact(l)}`))
  }
  if (out.length > 0) out.push('', '  overall (every scenario)')
  return out
}
