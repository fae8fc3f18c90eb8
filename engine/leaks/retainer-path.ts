// Retainer paths: the shortest chain of strong references from the GC roots to an object, with
// the edges' names, as DevTools and memlab show it (`MemoryStore.sessions -> ... -> SessionRecord`).
// One breadth-first walk from the snapshot's root over every edge but weak ones records, for each
// node, the edge it was first reached by; a path is then read backwards from any node.
import type { HeapGraph } from './heap-snapshot.js'

const NONE = 0xffffffff
/**
 * Roots walked last, so a path shows the owner that keeps an object (`handler()::sessions`):
 * those that hold whatever the VM was busy with when the snapshot was taken (the stack of a
 * request being handled, the debugger), and V8's string table, which reaches every interned
 * string (the keys of a plain object used as a store) before the object that holds them.
 */
const MOMENTARY_ROOTS = new Set(['(Stack roots)', '(Handle scope)', '(Debugger)', '(Relocatable)', '(Compilation cache)', '(Code flusher)', '(Write barrier)', '(Internalized strings)', '(External strings)', '(String table)'])

export class RetainerTree {
  readonly #g: HeapGraph
  /** index into `edges` of the edge a node was first reached by (NONE: the root, or unreachable) */
  readonly #via: Uint32Array
  /** the node that edge leaves from */
  readonly #from: Uint32Array

  constructor (g: HeapGraph) {
    this.#g = g
    this.#via = new Uint32Array(g.nodeCount).fill(NONE)
    this.#from = new Uint32Array(g.nodeCount).fill(NONE)
    this.#walk()
  }

  #walk (): void {
    const g = this.#g
    const weak = g.edgeTypes.indexOf('weak')
    const seen = new Uint8Array(g.nodeCount)
    const queue = new Uint32Array(g.nodeCount)
    const synthetic = g.nodeTypes.indexOf('synthetic')
    const later: number[] = []
    let head = 0
    let tail = 0
    queue[tail++] = 0
    seen[0] = 1
    for (;;) {
      while (head < tail) {
        const n = queue[head++]!
        for (let e = g.firstEdge[n]!; e < g.firstEdge[n + 1]!; e += g.ef) {
          if (g.edges[e + g.f.edgeType] === weak) continue
          const to = g.edges[e + g.f.edgeTo]! / g.nf
          if (seen[to] === 1) continue
          seen[to] = 1
          this.#via[to] = e
          this.#from[to] = n
          if (g.nodes[to * g.nf + g.f.type] === synthetic && MOMENTARY_ROOTS.has(g.strings[g.nodes[to * g.nf + g.f.name]!]!)) later.push(to)
          else queue[tail++] = to
        }
      }
      if (later.length === 0) break
      for (const r of later) queue[tail++] = r
      later.length = 0
    }
  }

  reachable (node: number): boolean {
    return node === 0 || this.#via[node] !== NONE
  }

  /**
   * The edges from the root to `node`, each rendered `Holder.edge` (`[i]` for an element,
   * `Holder::variable` for a closure's context, `Map["key"]` for a Map entry), the GC-root
   * bookkeeping at the start dropped, ending with the node's own class. undefined when the node
   * is unreachable.
   */
  path (node: number, maxSteps = 16): string[] | undefined {
    if (!this.reachable(node)) return undefined
    const hops: Array<{ from: number, edge: number }> = []
    for (let n = node; n !== 0 && hops.length < 1000; n = this.#from[n]!) hops.push({ from: this.#from[n]!, edge: this.#via[n]! })
    hops.reverse()
    // "(GC roots)", "(Global handles)"...: synthetic holders say how V8 keeps a root, not who
    const synthetic = this.#g.nodeTypes.indexOf('synthetic')
    const firstReal = hops.findIndex(h => this.#g.nodes[h.from * this.#g.nf + this.#g.f.type] !== synthetic)
    const steps: string[] = []
    for (let i = Math.max(0, firstReal); i < hops.length; i++) {
      const entry = i + 1 < hops.length ? this.#mapEntry(hops[i]!, hops[i + 1]!) : undefined
      if (entry !== undefined) {
        steps.push(entry)
        i++ // the table and the entry are one step: Map["key"]
      } else {
        steps.push(this.#edgeLabel(hops[i]!.from, hops[i]!.edge))
      }
    }
    // `handler().context -> (Context)::sessions` is the closure's variable: `handler()::sessions`
    for (let i = steps.length - 2; i >= 0; i--) {
      if (steps[i]!.endsWith('().context') && steps[i + 1]!.startsWith('(Context)::')) steps.splice(i, 2, steps[i]!.slice(0, -'.context'.length) + steps[i + 1]!.slice('(Context)'.length))
    }
    // a linked list (timers' _idleNext, a listener chain) is one step repeated: say it once, with its count
    for (let i = steps.length - 1; i > 0; i--) {
      const run = /^(.*) x(\d+)$/.exec(steps[i]!)
      const [step, times] = run === null ? [steps[i]!, 1] : [run[1]!, Number(run[2])]
      if (steps[i - 1] === step) steps.splice(i - 1, 2, `${step} x${times + 1}`)
    }
    const trimmed = steps.length > maxSteps ? [...steps.slice(0, 3), '...', ...steps.slice(-(maxSteps - 4))] : steps
    return [...trimmed, className(this.#g, node)]
  }

  #edgeLabel (from: number, e: number): string {
    const g = this.#g
    const type = g.edgeTypes[g.edges[e + g.f.edgeType]!]
    const raw = g.edges[e + g.f.edgeName]!
    const holder = className(g, from)
    if (type === 'element' || type === 'hidden') return `${holder}[${raw}]`
    const name = g.strings[raw] ?? String(raw)
    if (type === 'context') return `${holder}::${name}`
    if (/^\d+$/.test(name)) return `${holder}[${name}]`
    return /^[A-Za-z_$][\w$]*$/.test(name) ? `${holder}.${name}` : `${holder}[${JSON.stringify(name)}]`
  }

  /**
   * `Map.table` then the table's entry `[1028]` -> `Map["sid1"]`: a Map's hash table keeps each
   * entry as key, value, chain, so the value's edge follows its key's (a small-integer key is no
   * heap object: `Map[entry]`; a path to a key itself: `Map[key]`). A Set's member: `Set[entry]`.
   */
  #mapEntry (table: { from: number, edge: number }, entry: { from: number, edge: number }): string | undefined {
    const g = this.#g
    const holder = className(g, table.from)
    if (g.strings[g.edges[table.edge + g.f.edgeName]!] !== 'table' || (holder !== 'Map' && holder !== 'Set')) return undefined
    const e = entry.edge
    const index = g.strings[g.edges[e + g.f.edgeName]!] ?? ''
    if (!/^\d+$/.test(index)) return undefined
    if (holder === 'Set') return 'Set[entry]'
    if (e < g.firstEdge[entry.from]! + g.ef) return 'Map[entry]'
    const keyEdge = e - g.ef
    if (g.strings[g.edges[keyEdge + g.f.edgeName]!] !== String(Number(index) - 1)) {
      // no key before it: the step leads to a key itself (its value follows), or a number key
      const next = e + g.ef < g.firstEdge[entry.from + 1]! ? g.strings[g.edges[e + g.ef + g.f.edgeName]!] : undefined
      return next === String(Number(index) + 1) ? 'Map[key]' : 'Map[entry]'
    }
    const key = g.edges[keyEdge + g.f.edgeTo]! / g.nf
    const keyType = g.nodeTypes[g.nodes[key * g.nf + g.f.type]!] ?? ''
    const keyName = g.strings[g.nodes[key * g.nf + g.f.name]!] ?? ''
    if (keyType === 'string' || keyType === 'concatenated string' || keyType === 'sliced string') return `Map[${JSON.stringify(keyName.length > 40 ? keyName.slice(0, 40) + '…' : keyName)}]`
    if (keyType === 'number' || keyType === 'hidden') return /^-?[\d.e+]+$/.test(keyName) ? `Map[${keyName}]` : 'Map[entry]'
    return `Map[${className(g, key)}]`
  }
}

/**
 * What DevTools calls a node's class: the constructor name of an object, `name()` for a closure,
 * `(type)` otherwise ("(string)", "(system)", "(array)"...). Strings are grouped by type: their
 * "name" is their content.
 */
export function className (g: HeapGraph, node: number): string {
  const type = g.nodeTypes[g.nodes[node * g.nf + g.f.type]!] ?? 'unknown'
  const name = g.strings[g.nodes[node * g.nf + g.f.name]!] ?? ''
  switch (type) {
    case 'object': case 'native': case 'hidden':
      if (name.startsWith('system / ')) return `(${name.slice(9)})` // V8's own: (Context), (PropertyArray)...
      if (name === '') return type === 'hidden' ? '(system)' : `(${type})`
      return name.replace(/ \/ $/, '') // 'global / ' is the global object
    case 'closure': return `${name === '' ? '(anonymous)' : name}()`
    case 'array': return name.startsWith('(') ? name : '(array)'
    default: return `(${type})`
  }
}
