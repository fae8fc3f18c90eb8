// compare.html: baseline and candidate overlaid per metric, on the same per-second windows the
// statistics use (load phase after the warm-up), each chart captioned with the change, its
// interval, the budget and the verdict; then isolation, rounds and the method. One
// self-contained page, drawn like report.html (report/html-page.ts).
import { chartFigure, escapeHtml as h, renderPage, type ChartSeries, type ChartSpec } from '../report/index.js'
import type { ComparisonResult, ComparisonRound } from './compare-rounds.js'
import { WINDOW_METRICS, type WindowMetric } from './compared-metrics.js'
import { formatConfidence } from './format.js'
import { metricCells, methodLine, OVERALL_MARKS } from './metric-cells.js'
import { extractWindows, type LoadWindow } from './windows.js'

export const COMPARE_HTML_FILE = 'compare.html'

const SIDE_COLORS = { baseline: '#0072B2', candidate: '#D55E00' } as const

const Y_LABELS: Readonly<Record<WindowMetric, string>> = { p50: 'ms', p95: 'ms', p99: 'ms', throughput: 'requests/s', errorRate: 'failed share' }

/** Each run's windows, indexed by seconds after the warm-up (the x every chart shares). */
function windowsByRun (r: ComparisonResult, rounds: readonly ComparisonRound[]): Array<{ round: number, side: 'baseline' | 'candidate', windows: LoadWindow[], first: number }> {
  const options = { warmupS: r.method.warmupS, latencyMetric: r.method.latencyMetric }
  return rounds.flatMap((x, i) => (['baseline', 'candidate'] as const).map(side => {
    const run = x[side]
    return { round: i + 1, side, windows: extractWindows(run, options), first: Math.ceil(run.loadWindow.startS) + r.method.warmupS }
  }))
}

/** Charts of the window metrics: one line per run, x in seconds after the warm-up. */
export function comparisonCharts (r: ComparisonResult, rounds: readonly ComparisonRound[]): ChartSpec[] {
  const runs = windowsByRun(r, rounds)
  const length = Math.max(0, ...runs.map(x => x.windows.reduce((m, w) => Math.max(m, Math.round(w.t - x.first) + 1), 0)))
  const x = Array.from({ length }, (_, i) => i)
  const conf = formatConfidence(r.method.confidence)
  return WINDOW_METRICS.map(metric => {
    const series: ChartSeries[] = runs.map(run => {
      const values: Array<number | null> = x.map(() => null)
      for (const w of run.windows) values[Math.round(w.t - run.first)] = w[metric]
      return { label: `${run.side} r${run.round}`, values, color: SIDE_COLORS[run.side], ...(run.side === 'candidate' && { dashed: true }) }
    })
    const row = r.metrics.find(m => m.metric === metric)
    const cells = row === undefined ? undefined : metricCells(row)
    const caption = cells === undefined
      ? 'not compared'
      : `baseline ${cells.baseline} · candidate ${cells.candidate} · change ${cells.change} · ${conf} interval ${cells.interval} · budget ${cells.budget} · ${cells.verdict}`
    return { id: `compare-${metric}`, title: `${metric}${cells === undefined ? '' : `: ${cells.verdict}`}`, xLabel: `seconds of load after the ${r.method.warmupS}s warm-up`, yLabel: Y_LABELS[metric], x, series, caption }
  })
}

function table (head: readonly string[], rows: ReadonlyArray<readonly string[]>, id: string): string {
  return `<table id="${id}"><thead><tr>${head.map(c => `<th>${c}</th>`).join('')}</tr></thead><tbody>\n${rows.map(row => `<tr>${row.map(c => `<td>${c}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>`
}

function sections (r: ComparisonResult): string {
  const b = h(r.labels.baseline)
  const c = h(r.labels.candidate)
  const conf = formatConfidence(r.method.confidence)
  const metrics = table(['metric', `baseline (${b})`, `candidate (${c})`, 'change', `${conf} interval`, 'budget', 'verdict'],
    r.metrics.map(m => { const x = metricCells(m); return [x.metric, x.baseline, x.candidate, h(x.change), h(x.interval), h(x.budget), x.verdict] }), 'metrics')
  const isolation = table(['violations', `baseline (${b})`, `candidate (${c})`],
    [['total', String(r.isolation.baseline.violations), String(r.isolation.candidate.violations)], ...r.isolation.byKind.map(k => [k.kind, String(k.baseline), String(k.candidate)])], 'isolation')
  const rounds = table(['round', 'baseline status', 'baseline windows', 'candidate status', 'candidate windows'],
    r.rounds.map(x => [String(x.round), x.baseline.status, String(x.baseline.windows), x.candidate.status, String(x.candidate.windows)]), 'rounds')
  return `<h2>Metrics</h2>${metrics}<h2>Isolation</h2>${isolation}<p class="${r.isolation.regressed ? 'bad' : 'ok'}">${r.isolation.regressed ? `The candidate shows ${r.isolation.candidate.violations} isolation violations: a regression whatever the baseline shows.` : 'No isolation violations in the candidate.'}</p><h2>Rounds</h2>${rounds}<h2>Method</h2><p>${h(methodLine(r))}</p>`
}

/** The whole page: `rounds` are the runs compared (their per-second series are drawn). */
export function renderComparisonHtml (r: ComparisonResult, rounds: readonly ComparisonRound[]): string {
  const charts = comparisonCharts(r, rounds)
  const header = `<header id="summary" data-status="${r.verdict}" data-rounds="${r.rounds.length}">
<h1>crosstalk compare: ${h(r.labels.baseline)} vs ${h(r.labels.candidate)} <span class="status ${r.verdict}" id="status">${h(OVERALL_MARKS[r.verdict])}</span></h1>
<ul class="lines" id="reasons">${r.reasons.map(x => `<li>${h(x)}</li>`).join('')}</ul>
<p>Lines: <span style="color:${SIDE_COLORS.baseline}">baseline, solid</span>; <span style="color:${SIDE_COLORS.candidate}">candidate, dashed</span>; one per round.</p>
</header>`
  const body = [header, '<h2>Per second, both sides</h2>', `<div class="charts">${charts.map(chartFigure).join('\n')}</div>`, sections(r)].join('\n')
  return renderPage(`crosstalk compare · ${r.verdict}`, body, charts)
}
