// report.html: one self-contained page per run: a header (status, target, scenario, executor,
// duration, totals), the per-second charts, thresholds, isolation samples, failed checks, error
// groups and hints. Every value comes from the RunResult (report.json), already redacted there.
import { join, resolve } from 'node:path'
import { METRICS } from '../metrics/index.js'
import type { RunResult } from '../result/index.js'
import { redact, redactUrl, writeFileAtomic } from '../shared/index.js'
import { chartFigure, escapeHtml as h, renderPage } from './html-page.js'
import { runCharts } from './run-charts.js'
import { outageLines } from './outage-lines.js'
import { checkFailureLine, errorCause } from './terminal-summary.js'

export const HTML_REPORT_FILE = 'report.html'

function num (v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function table (head: readonly string[], rows: ReadonlyArray<readonly string[]>, id?: string): string {
  const th = head.map(c => `<th>${c}</th>`).join('')
  const tr = rows.map(r => `<tr>${r.map(c => `<td>${c}</td>`).join('')}</tr>`).join('\n')
  return `<table${id === undefined ? '' : ` id="${id}"`}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`
}

/** The figures the header states, as data attributes too (what a test or a script reads). */
export function runTotals (r: RunResult): { requests: number, failedRequests: number, errors: number, iterations: number, violations: number } {
  const reqs = r.metrics[METRICS.httpReqs]
  const failed = r.metrics[METRICS.httpReqFailed]
  const iterations = r.metrics[METRICS.iterations]
  return {
    requests: reqs?.type === 'counter' ? reqs.count : 0,
    failedRequests: failed?.type === 'rate' ? failed.passes : 0,
    errors: r.errors.count,
    iterations: iterations?.type === 'counter' ? iterations.count : 0,
    violations: r.isolation.violations
  }
}

function header (r: RunResult): string {
  const t = runTotals(r)
  const dur = r.metrics[METRICS.httpReqDuration]
  const latency = dur?.type === 'trend' ? `p50 ${num(dur.med)} ms · p95 ${num(dur.p95)} ms · p99 ${num(dur.p99)} ms` : 'no requests'
  const load = r.loadDurationMs / 1000
  const facts: Array<[string, string]> = [
    ['target', h(redactUrl(r.target.url))],
    ['scenario', `${h(r.scenario.name)} <code>${h(r.scenario.source)}</code>`],
    ['executor', `${h(r.executor.name)} (${r.executor.model} model) · planned ${num(r.users.planned)} users · peak active ${num(r.users.peakActive)} · lost ${num(r.users.lost)}`],
    ['duration', `${num(load)} s of load, ${num(r.durationMs / 1000)} s in all · stopped by ${h(r.stopReason)} · started ${h(r.startedAt)}`],
    ['requests', `${num(t.requests)} (${num(load > 0 ? t.requests / load : 0)}/s) · ${num(t.failedRequests)} failed · ${latency}`],
    ['iterations', `${num(t.iterations)} · errors ${num(t.errors)} · isolation violations ${num(t.violations)}`],
    ['run', `<code>${h(r.runId)}</code> · ${r.workers.threads} worker threads`]
  ]
  const failures = r.failures.length === 0 ? '' : `<ul class="lines" id="failures">${r.failures.map(f => `<li class="bad">${h(redact(f))}</li>`).join('')}</ul>`
  const attrs = `data-status="${r.status}" data-requests="${t.requests}" data-failed-requests="${t.failedRequests}" data-errors="${t.errors}" data-iterations="${t.iterations}" data-violations="${t.violations}"`
  return `<header id="summary" ${attrs}>
<h1>crosstalk · ${h(r.scenario.name)} <span class="status ${r.status}" id="status">${r.status.toUpperCase()}</span></h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${failures}
</header>`
}

function thresholdsSection (r: RunResult): string {
  if (r.thresholds.length === 0) return '<h2>Thresholds</h2><p>No thresholds.</p>'
  const rows = r.thresholds.map(th => [
    `<code>${h(th.metric)}</code>`,
    `<code>${h(th.expression)}</code>${th.default === true ? ' (default budget)' : ''}`,
    th.value === null ? 'no data' : num(th.value),
    th.passed ? '<span class="ok">✓ pass</span>' : '<span class="bad">✗ fail</span>'
  ])
  return `<h2>Thresholds (${r.thresholds.filter(t => t.passed).length} of ${r.thresholds.length} passed)</h2>${table(['metric', 'expression', 'value', 'result'], rows, 'thresholds')}`
}

function isolationSection (r: RunResult): string {
  const iso = r.isolation
  if (iso.violations === 0) return `<h2>Isolation</h2><p class="ok">No user saw another user's data or events.${iso.forgedCanaries > 0 ? ` ${num(iso.forgedCanaries)} forged canaries ignored.` : ''}</p>`
  const kinds = Object.entries(iso.byKind).map(([k, n]) => `${h(k)} ${num(n)}`).join(', ')
  const rows = iso.samples.map(v => {
    const where = v.where.channel !== undefined ? `ws ${v.where.channel}` : `${v.where.method ?? ''} ${v.where.path ?? ''}`.trim()
    return [h(v.kind), h(v.user), h(v.owner), `${h(where)} ${h(v.where.part)}${v.where.header === undefined ? '' : ` ${h(v.where.header)}`}`, `<code>${h(v.excerpt)}</code>`]
  })
  return `<h2>Isolation</h2><p class="bad">${num(iso.incidents)} incidents, ${num(iso.violations)} violations: ${kinds}</p>${table(['kind', 'user', 'saw data of', 'where', 'excerpt (redacted)'], rows, 'isolation-samples')}`
}

function listSection (title: string, id: string, lines: readonly string[]): string {
  if (lines.length === 0) return ''
  return `<h2>${title}</h2><ul class="lines" id="${id}">${lines.map(l => `<li>${h(l)}</li>`).join('')}</ul>`
}

function errorsSection (r: RunResult): string {
  if (r.errors.groups.length === 0) return ''
  const rows = r.errors.groups.map(g => [`${num(g.count)}`, h(g.phase), h(errorCause(g).replace(/: $/, '')), h(redact(g.message)), h(g.user), g.at === undefined ? '' : `<code>${h(g.at)}</code>`])
  return `<h2>Errors (${num(r.errors.count)})</h2>${table(['count', 'phase', 'cause', 'message', 'first user', 'at'], rows, 'error-groups')}`
}

/** The whole page for one run. */
export function renderHtmlReport (r: RunResult): string {
  const charts = runCharts(r)
  const body = [
    header(r),
    '<h2>Per second</h2>',
    charts.length === 0 ? '<p>No per-second data was recorded.</p>' : `<div class="charts">${charts.map(chartFigure).join('\n')}</div>`,
    thresholdsSection(r),
    listSection('Outages (shaded on the charts)', 'outages', outageLines(r)),
    isolationSection(r),
    listSection('Failed checks', 'failed-checks', r.checkFailures.map(checkFailureLine)),
    errorsSection(r),
    listSection('Hints', 'hints', r.hints)
  ].join('\n')
  return renderPage(`crosstalk · ${r.scenario.name} · ${r.status}`, body, charts)
}

/** Writes `<dir>/report.html`; returns its path. */
export async function writeHtmlReport (dir: string, r: RunResult): Promise<string> {
  const path = resolve(join(dir, HTML_REPORT_FILE))
  await writeFileAtomic(path, renderHtmlReport(r))
  return path
}
