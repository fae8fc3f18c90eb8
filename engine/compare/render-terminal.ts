// The comparison as a plain-text table for the terminal.
import type { ComparisonResult } from './compare-rounds.js'
import { formatConfidence } from './format.js'
import { metricCells, methodLine, OVERALL_MARKS, type MetricCells } from './metric-cells.js'

const COLUMNS: ReadonlyArray<keyof MetricCells> = ['metric', 'baseline', 'candidate', 'change', 'interval', 'budget', 'verdict']

function aligned (rows: string[][]): string[] {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map(r => [...(r[i] ?? '')].length)))
  return rows.map(r => ('  ' + r.map((c, i) => i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)).join('   ')).trimEnd())
}

export function formatComparisonTable (r: ComparisonResult): string {
  const conf = formatConfidence(r.method.confidence)
  const out: string[] = []
  out.push(`crosstalk compare · baseline ${r.labels.baseline} vs candidate ${r.labels.candidate} · ${r.method.rounds} round${r.method.rounds === 1 ? '' : 's'} · ${r.windows.baseline}/${r.windows.candidate} windows · ${conf} CI`)
  out.push('')
  const header = ['metric', 'baseline', 'candidate', 'change', `${conf} CI`, 'budget', 'verdict']
  const rows: string[][] = [header]
  for (const m of r.metrics) {
    const cells = metricCells(m)
    rows.push(COLUMNS.map(c => cells[c]))
  }
  const iso = r.isolation
  const delta = iso.candidate.violations - iso.baseline.violations
  rows.push(['isolation', String(iso.baseline.violations), String(iso.candidate.violations), delta > 0 ? `+${delta}` : String(delta), '', '0', iso.regressed ? '✗ regressed' : '✓ none'])
  for (const k of iso.byKind) {
    if (k.baseline > 0 || k.candidate > 0) rows.push([`  ${k.kind}`, String(k.baseline), String(k.candidate), '', '', '', ''])
  }
  out.push(...aligned(rows))
  out.push('')
  out.push(`  verdict ${OVERALL_MARKS[r.verdict]}`)
  for (const reason of r.reasons) out.push(`    - ${reason}`)
  out.push('')
  out.push(`  * the ${conf} interval of the change excludes 0`)
  out.push(`  method: ${methodLine(r)}`)
  return out.join('\n')
}
