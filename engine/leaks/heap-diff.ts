// memlab's three-snapshot diff for a server: objects allocated between the baseline and the
// target snapshots (their ids are in the target, not the baseline; V8 keeps an object's id
// across snapshots of one process) that are still alive in the final one, taken after the load.
// Requests in flight at the target, and cache entries evicted by the end, are gone by then: what
// is left was kept. Grouped by class, largest first, with the dominant retainer path of the top
// groups.
import type { HeapDiffGroup } from '../result/index.js'
import { hasId, type HeapGraph } from './heap-snapshot.js'
import { className, RetainerTree } from './retainer-path.js'

/** node types that are the VM's own bookkeeping, not what the program keeps */
const NOT_KEPT = new Set(['synthetic', 'code', 'object shape'])
/** members of a group whose retainer paths are compared to find the dominant one */
const PATH_SAMPLES = 40

export interface DiffInput {
  baselineIds: Uint32Array
  target: HeapGraph
  finalIds: Uint32Array
  /** operations completed between the baseline and the target */
  ops: number
  /** groups reported, and how many of them get a retainer path */
  topGroups: number
  topPaths: number
}

interface Group { name: string, count: number, bytes: number, members: number[] }

export function diffSnapshots (d: DiffInput): HeapDiffGroup[] {
  const g = d.target
  const groups = new Map<string, Group>()
  const skip = new Set([...NOT_KEPT].map(t => g.nodeTypes.indexOf(t)))
  for (let n = 0; n < g.nodeCount; n++) {
    const o = n * g.nf
    if (skip.has(g.nodes[o + g.f.type]!)) continue
    const id = g.nodes[o + g.f.id]!
    if (hasId(d.baselineIds, id) || !hasId(d.finalIds, id)) continue
    const name = className(g, n)
    let group = groups.get(name)
    if (group === undefined) groups.set(name, group = { name, count: 0, bytes: 0, members: [] })
    group.count++
    group.bytes += g.nodes[o + g.f.selfSize]!
    group.members.push(n)
  }
  const top = [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, d.topGroups)
  const tree = top.length > 0 && d.topPaths > 0 ? new RetainerTree(g) : undefined
  return top.map((group, i) => {
    const retainerPath = tree !== undefined && i < d.topPaths ? dominantPath(tree, group.members) : undefined
    return {
      name: group.name,
      count: group.count,
      bytes: group.bytes,
      perKOps: d.ops > 0 ? Math.round(group.bytes * 1000 / d.ops) : 0,
      ...(retainerPath !== undefined && { retainerPath })
    }
  })
}

/**
 * The path most members share: each sampled member's path with its indices and keys blanked
 * (`[17]` and `[42]` are the same route, and so are 3 or 30 hops down a linked list), the most frequent shape wins, and one of its members'
 * concrete paths stands for it.
 */
function dominantPath (tree: RetainerTree, members: number[]): string[] | undefined {
  const step = Math.max(1, Math.floor(members.length / PATH_SAMPLES))
  const shapes = new Map<string, { count: number, path: string[] }>()
  for (let i = 0; i < members.length; i += step) {
    const path = tree.path(members[i]!)
    if (path === undefined) continue
    const shape = path.map(s => s.replace(/\[[^\]]*\]/g, '[]').replace(/ x\d+$/, ' xN')).join(' -> ')
    const seen = shapes.get(shape)
    if (seen === undefined) shapes.set(shape, { count: 1, path })
    else seen.count++
  }
  let best: { count: number, path: string[] } | undefined
  for (const s of shapes.values()) if (best === undefined || s.count > best.count) best = s
  return best?.path
}
