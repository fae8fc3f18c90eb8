// summary.md: a run in Markdown, for a pull request, a wiki or GitHub's job summary
// ($GITHUB_STEP_SUMMARY). Laid out like compare.md: a title, the verdict in bold, the reasons as
// a list, then tables; everything written from the RunResult, already redacted there.
import { appendFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { METRICS } from '../metrics/index.js'
import type { RunResult } from '../result/index.js'
import { redact, redactUrl, writeFileAtomic } from '../shared/index.js'
import { runTotals } from './html-report.js'
import { checkFailureLine, errorCause } from './terminal-summary.js'

export const MARKDOWN_SUMMARY_FILE = 'summary.md'

const STATUS_MARKS = { passed: '✓ PASSED', failed: '✗ FAILED', interrupted: '? INTERRUPTED' } as const

/** Text safe inside a Markdown paragraph or table cell. */
export function markdownText (s: string): string {
  return s.replace(/[\\`*_[\]<>|#]/g, '\\$&').replace(/\r?\n/g, ' ')
}

const md = markdownText

function num (v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function ms (v: number): string {
  return `${num(v)} ms`
}

function overview (r: RunResult): string[] {
  const t = runTotals(r)
  const load = r.loadDurationMs / 1000
  const dur = r.metrics[METRICS.httpReqDuration]
  const rows: Array<[string, string]> = [
    ['target', md(redactUrl(r.target.url))],
    ['executor', `${md(r.executor.name)} (${r.executor.model} model)`],
    ['load', `${num(load)} s (stopped by ${r.stopReason}), ${num(r.durationMs / 1000)} s in all`],
    ['users', `planned ${num(r.users.planned)} · peak active ${num(r.users.peakActive)} · completed ${num(r.users.completed)} · lost ${num(r.users.lost)}`],
    ['requests', `${num(t.requests)} (${num(load > 0 ? t.requests / load : 0)}/s) · ${num(t.failedRequests)} failed`],
    ['latency', dur?.type === 'trend' ? `p50 ${ms(dur.med)} · p95 ${ms(dur.p95)} · p99 ${ms(dur.p99)} · max ${ms(dur.max)}` : 'n/a'],
    ['iterations', `${num(t.iterations)} · errors ${num(t.errors)}`],
    ['isolation', r.isolation.violations === 0 ? 'no violations' : `**${num(r.isolation.violations)} violations** (${Object.entries(r.isolation.byKind).map(([k, n]) => `${k} ${num(n)}`).join(', ')})`]
  ]
  if (r.shard !== undefined) rows.splice(2, 0, ['shard', `${r.shard.index} of ${r.shard.count} (0-based) · users ${r.shard.users.map(u => `${num(u.from)}-${num(u.to - 1)}`).join(', ')}`])
  if (r.mergedFrom !== undefined) rows.splice(2, 0, ['shards', `merged from ${r.mergedFrom.shards.length}: ${r.mergedFrom.shards.map(s => `${s.index} ${md(s.status)}`).join(', ')}`])
  if (r.events.received > 0 || r.events.sent > 0) {
    const e = r.events
    rows.push(['events', `received ${num(e.received)} of ${num(e.sent)} sent · lost ${num(e.lost)} · duplicated ${num(e.duplicated)} · reordered ${num(e.reordered)}`])
  }
  if (r.leaks !== undefined) rows.push(['leaks', `${r.leaks.verdict === 'leak' ? '**LEAK**' : r.leaks.verdict} · ${Math.round(r.leaks.bytesPerOp)} B/op (95% CI ${Math.round(r.leaks.ciLow)}..${Math.round(r.leaks.ciHigh)})`])
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '']
}

function thresholds (r: RunResult): string[] {
  if (r.thresholds.length === 0) return []
  return [
    `## Thresholds (${r.thresholds.filter(t => t.passed).length} of ${r.thresholds.length} passed)`,
    '',
    '| metric | expression | value | result |',
    '|---|---|--:|---|',
    ...r.thresholds.map(t => `| ${md(t.metric)} | ${md(t.expression)}${t.default === true ? ' (default budget)' : ''} | ${t.value === null ? 'no data' : num(t.value)} | ${t.passed ? '✓ pass' : '✗ fail'} |`),
    ''
  ]
}

function isolation (r: RunResult): string[] {
  const iso = r.isolation
  if (iso.violations === 0) return []
  return [
    '## Isolation',
    '',
    '| kind | user | saw data of | where | excerpt (redacted) |',
    '|---|---|---|---|---|',
    ...iso.samples.slice(0, 10).map(v => {
      const where = v.where.channel !== undefined ? `ws ${v.where.channel}` : `${v.where.method ?? ''} ${v.where.path ?? ''}`.trim()
      return `| ${v.kind} | ${md(v.user)} | ${md(v.owner)} | ${md(`${where} ${v.where.part}`)} | ${md(v.excerpt)} |`
    }),
    ''
  ]
}

function outages (r: RunResult): string[] {
  const list = r.outages ?? [] // absent in reports written before outage detection
  if (list.length === 0) return []
  const sec = (v: number): string => `${(v / 1000).toFixed(2)} s`
  return [
    `## Outages (${list.length})`,
    '',
    'Seconds since the run started; the end is the first success after it; recovery runs from there to throughput back at 90% of the median before it.',
    '',
    '| # | start | end | duration | detected after | recovery | failed requests |',
    '|--:|--:|--:|--:|--:|--:|--:|',
    ...list.map((o, i) => `| ${i + 1} | ${sec(o.startMs)} | ${o.ended ? sec(o.endMs) : 'still down'} | ${sec(o.durationMs)} | ${sec(o.detectMs)} | ${o.recoveryMs === null ? 'not recovered' : sec(o.recoveryMs)} | ${num(o.failedRequests)} |`),
    ''
  ]
}

function section (title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : [`## ${title}`, '', ...lines.map(l => `- ${md(l)}`), '']
}

/** The whole Markdown document for one run. */
export function formatMarkdownSummary (r: RunResult): string {
  const out = [`# crosstalk run: ${md(r.scenario.name)}`, '', `**Status: ${STATUS_MARKS[r.status]}**`, '']
  if (r.failures.length > 0) out.push(...r.failures.map(f => `- ${md(redact(f))}`), '')
  out.push(...overview(r), ...scenarioTable(r), ...thresholds(r), ...outages(r), ...isolation(r))
  out.push(...section('Failed checks', r.checkFailures.slice(0, 10).map(checkFailureLine)))
  out.push(...section(`Errors (${num(r.errors.count)})`, r.errors.groups.slice(0, 10).map(g => `${num(g.count)}× ${g.phase}: ${errorCause(g)}${redact(g.message)}${g.at === undefined ? '' : ` (at ${g.at})`}`)))
  out.push(...section('Hints', r.hints))
  out.push(`Run ${r.runId}, started ${r.startedAt}, scenario ${md(r.scenario.source)}.`, '')
  return out.join('\n')
}

/** Writes `<dir>/summary.md`; returns its path. */
export async function writeMarkdownSummary (dir: string, r: RunResult): Promise<string> {
  const path = resolve(join(dir, MARKDOWN_SUMMARY_FILE))
  await writeFileAtomic(path, formatMarkdownSummary(r))
  return path
}

/**
 * Appends Markdown to GitHub's job summary when $GITHUB_STEP_SUMMARY names its file (GitHub
 * Actions sets it for each step); returns the path written, or undefined outside Actions.
 */
export async function appendStepSummary (markdown: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const file = env.GITHUB_STEP_SUMMARY
  if (file === undefined || file === '') return undefined
  await appendFile(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`)
  return file
}

/** A plan of several scenarios: one row per scenario, before the overall tables. */
function scenarioTable (r: RunResult): string[] {
  const entries = Object.entries(r.scenarios ?? {})
  if (entries.length === 0) return []
  const rows = entries.map(([name, sc]) => {
    const reqs = sc.metrics[METRICS.httpReqs]
    const dur = sc.metrics[METRICS.httpReqDuration]
    const failed = sc.thresholds.filter(t => !t.passed).length
    const verdict = sc.thresholds.length === 0 ? '' : failed > 0 ? `✗ ${failed} of ${sc.thresholds.length} failed` : `✓ ${sc.thresholds.length} passed`
    return `| ${md(name)} | ${md(sc.executor.name)}${sc.startTimeMs > 0 ? ` from ${num(sc.startTimeMs / 1000)} s` : ''} | ${num(sc.users.planned)} · peak ${num(sc.users.peakActive)} · lost ${num(sc.users.lost)} | ${num(sc.iterations)} | ${reqs?.type === 'counter' ? num(reqs.count) : '0'} | ${dur?.type === 'trend' ? ms(dur.p95) : 'n/a'} | ${num(sc.errors)} | ${verdict} |`
  })
  return [
    `## Scenarios (${entries.length})`,
    '',
    '| scenario | executor | users | iterations | requests | p95 | errors | thresholds |',
    '|---|---|---|--:|--:|--:|--:|---|',
    ...rows,
    ''
  ]
}
