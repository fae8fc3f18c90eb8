// The heap diff in the terminal summary: the top 3 kept classes, each with its growth per 1K
// operations and the dominant retainer path (the full list is in report.json leaks.diff).
import type { HeapDiffReport } from '../result/index.js'

const SHOWN = 3

export function heapDiffLines (diff: HeapDiffReport | undefined): string[] {
  if (diff === undefined) return []
  const kb = (b: number): string => b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} KB`
  const window = diff.backend === 'memwatch' ? 'from the baseline to the end' : 'allocated between baseline and target, alive at the end'
  const out: string[] = []
  if (diff.groups.length > 0) {
    out.push(`    heap diff (${diff.backend}): kept objects by class, ${window}${diff.ops !== undefined ? ` (${diff.ops.toLocaleString('en-US')} ops)` : ''}`)
  }
  for (const g of diff.groups.slice(0, SHOWN)) {
    out.push(`      ${g.name} x${g.count.toLocaleString('en-US')} · ${kb(g.bytes)} · ${kb(g.perKOps)} per 1K ops`)
    if (g.retainerPath !== undefined) out.push(`        ${g.retainerPath.join(' -> ')}`)
  }
  if (diff.note !== undefined) out.push(`    ${diff.note.startsWith('heap diff') ? diff.note : `heap diff: ${diff.note}`}`)
  return out
}
