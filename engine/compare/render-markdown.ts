// The comparison as a Markdown report.
import { markdownText } from '../report/index.js'
import type { ComparisonResult } from './compare-rounds.js'
import { formatConfidence } from './format.js'
import { metricCells, methodLine, OVERALL_MARKS } from './metric-cells.js'

// the same escaping as summary.md, so both read alike in a job summary
const md = markdownText

export function formatComparisonMarkdown (r: ComparisonResult): string {
  const conf = formatConfidence(r.method.confidence)
  const b = md(r.labels.baseline)
  const c = md(r.labels.candidate)
  const out: string[] = []
  out.push(`# crosstalk compare: ${b} vs ${c}`)
  out.push('')
  out.push(`**Verdict: ${OVERALL_MARKS[r.verdict]}**`)
  out.push('')
  for (const reason of r.reasons) out.push(`- ${md(reason)}`)
  out.push('')
  out.push(`| metric | baseline (${b}) | candidate (${c}) | change | ${conf} CI | budget | verdict |`)
  out.push('|---|--:|--:|--:|--:|--:|---|')
  for (const m of r.metrics) {
    const x = metricCells(m)
    out.push(`| ${x.metric} | ${x.baseline} | ${x.candidate} | ${md(x.change)} | ${x.interval} | ${x.budget} | ${x.verdict} |`)
  }
  out.push('')
  out.push(`\\* the ${conf} interval of the change excludes 0. Intervals are relative for % budgets, absolute otherwise.`)
  out.push('')
  out.push('## Isolation')
  out.push('')
  out.push(`| violations | baseline (${b}) | candidate (${c}) |`)
  out.push('|---|--:|--:|')
  out.push(`| **total** | ${r.isolation.baseline.violations} | ${r.isolation.candidate.violations} |`)
  for (const k of r.isolation.byKind) out.push(`| ${k.kind} | ${k.baseline} | ${k.candidate} |`)
  out.push('')
  out.push(r.isolation.regressed
    ? `The candidate shows ${r.isolation.candidate.violations} isolation violation${r.isolation.candidate.violations === 1 ? '' : 's'}: a regression whatever the baseline shows.`
    : 'No isolation violations in the candidate.')
  out.push('')
  if (r.startup !== undefined) out.push(...startupSection(r.startup, b, c))
  out.push('## Rounds')
  out.push('')
  out.push(`| round | baseline status | baseline windows | candidate status | candidate windows |`)
  out.push('|--:|---|--:|---|--:|')
  for (const x of r.rounds) out.push(`| ${x.round} | ${x.baseline.status} | ${x.baseline.windows} | ${x.candidate.status} | ${x.candidate.windows} |`)
  out.push('')
  out.push('## Method')
  out.push('')
  out.push(md(methodLine(r)))
  out.push('')
  return out.join('\n')
}

/** Start-up of servers crosstalk started from commands: time to listening and RSS after start. */
function startupSection (s: NonNullable<ComparisonResult['startup']>, b: string, c: string): string[] {
  const mib = (bytes: number | undefined): string => bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`
  const signed = (v: number, text: string): string => `${v > 0 ? '+' : ''}${text}`
  const ch = s.change
  return [
    '## Start-up',
    '',
    `| | baseline (${b}) | candidate (${c}) | change |`,
    '|---|--:|--:|--:|',
    `| listening after | ${s.baseline === undefined ? 'n/a' : `${s.baseline.startMs} ms`} | ${s.candidate === undefined ? 'n/a' : `${s.candidate.startMs} ms`} | ${ch === undefined ? 'n/a' : signed(ch.startMs, `${ch.startMs} ms`)} |`,
    `| RSS after start | ${mib(s.baseline?.rssBytes)} | ${mib(s.candidate?.rssBytes)} | ${ch?.rssBytes === undefined ? 'n/a' : signed(ch.rssBytes, mib(ch.rssBytes))} |`,
    '',
    'Servers started from cmd: targets, once for the whole comparison: one reading each, not a statistic.',
    ''
  ]
}
