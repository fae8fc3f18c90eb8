#!/usr/bin/env node
// `npm run check:layers`: the engine's folders form layers, bottom to top, and no import runs up
// them or goes round in a cycle. Imports between folders go through the folder's index.ts, and
// only target/ (the one door) imports fixtures/ (result/ may name the fixture's stats type).
// Prints every offence, one per line, and exits 1 if there is any.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Bottom to top; a folder may import its own layer's files and anything below. */
export const LAYERS = [
  ['errors.ts', 'shared'],
  ['result'],
  ['metrics'],
  ['isolation'],
  ['probes'],
  ['streams'],
  ['context'],
  ['scenario'],
  ['load'],
  ['thresholds'],
  ['leaks'],
  ['target'],
  ['report'],
  ['options'],
  ['distributed'],
  ['pool'],
  ['runner'],
  ['compare'],
  ['cli'],
  ['index.ts', 'ava.ts']
]

const layerOf = new Map(LAYERS.flatMap((names, level) => names.map(n => [n, level])))
/** one wrong import can close many cycles: the shortest are the ones to read */
const MAX_CYCLES = 5
/** folders (or root files) allowed to import fixtures/, and how */
const FIXTURE_DOOR = 'target'
const FIXTURE_TYPES_ONLY = new Set(['result'])

function * tsFiles (dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield * tsFiles(p)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p
  }
}

/** engine/pool/worker.ts -> 'pool'; engine/errors.ts -> 'errors.ts' */
function unitOf (engine, file) {
  return relative(engine, file).split('/')[0]
}

// static imports and re-exports (also multi-line), and dynamic import('...') with a literal
const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

/** `root`: a checkout (default: this one), so a test can check a copy with a planted offence. */
export function findOffences (root = REPO) {
  const engine = join(root, 'engine')
  const offences = []
  const edges = new Map() // unit -> Set(unit)
  for (const file of tsFiles(engine)) {
    const from = unitOf(engine, file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? m[4]
      if (!spec.startsWith('.')) continue
      const typeOnly = m[2] !== undefined
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts')
      const where = `${relative(root, file)}: imports '${spec}'`
      if (!target.startsWith(engine + '/')) {
        if (target.startsWith(join(root, 'fixtures') + '/')) {
          if (from !== FIXTURE_DOOR && !(typeOnly && FIXTURE_TYPES_ONLY.has(from))) {
            offences.push(`${where}: only engine/${FIXTURE_DOOR}/ reaches fixtures/ (the one door)`)
          }
        } else {
          offences.push(`${where}: outside engine/`)
        }
        continue
      }
      const to = unitOf(engine, target)
      if (to === from) continue
      const toLayer = layerOf.get(to)
      const fromLayer = layerOf.get(from)
      if (toLayer === undefined || fromLayer === undefined) {
        offences.push(`${where}: '${toLayer === undefined ? to : from}' is in no layer (add it to LAYERS in .ci/check-layers.mjs)`)
        continue
      }
      if (toLayer > fromLayer) offences.push(`${where}: runs up the layers (${from} is below ${to})`)
      const isFolder = !to.endsWith('.ts')
      if (isFolder && relative(join(engine, to), target) !== 'index.ts') {
        offences.push(`${where}: imports between folders go through ${to}/index.ts`)
      }
      if (!edges.has(from)) edges.set(from, new Set())
      edges.get(from).add(to)
    }
  }
  offences.push(...unusedReExports(root, engine))
  const cycles = findCycles(edges).sort((a, b) => a.length - b.length)
  for (const cycle of cycles.slice(0, MAX_CYCLES)) offences.push(`import cycle between folders: ${cycle.join(' -> ')}`)
  if (cycles.length > MAX_CYCLES) offences.push(`... and ${cycles.length - MAX_CYCLES} longer import cycles`)
  return offences
}

/**
 * Names a folder's index.ts re-exports that no source outside that folder mentions: the engine's
 * other folders, examples/, scenarios/ and fixtures/. Tests and benchmarks are no reason to widen a
 * folder's door: they import what they reach into from its own file.
 */
function unusedReExports (root, engine) {
  const sources = ['engine', 'examples', 'scenarios', 'fixtures']
    .map(d => join(root, d))
    .filter(d => existsSync(d))
    .flatMap(d => [...tsFiles(d)].map(f => ({ file: f, text: readFileSync(f, 'utf8') })))
  const offences = []
  for (const dir of readdirSync(engine, { withFileTypes: true })) {
    const index = join(engine, dir.name, 'index.ts')
    if (!dir.isDirectory() || !existsSync(index)) continue
    const names = [...readFileSync(index, 'utf8').matchAll(/export\s*(?:type\s*)?\{([^}]*)\}/g)]
      .flatMap(m => m[1].split(',').map(x => x.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()).filter(Boolean))
    const outside = sources.filter(s => !s.file.startsWith(join(engine, dir.name) + '/'))
    for (const name of names) {
      const word = new RegExp(`\\b${name}\\b`)
      if (!outside.some(s => word.test(s.text))) offences.push(`${relative(root, index)}: re-exports '${name}', which nothing outside ${dir.name}/ uses`)
    }
  }
  return offences
}

/** Every elementary cycle found by depth-first search from each unit (the graph is small). */
function findCycles (edges) {
  const cycles = new Map()
  const visit = (start, node, path) => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const cycle = [...path, start]
        const key = [...path].sort().join(',')
        if (!cycles.has(key)) cycles.set(key, cycle)
      } else if (!path.includes(next) && next > start) {
        visit(start, next, [...path, next])
      }
    }
  }
  for (const start of edges.keys()) visit(start, start, [start])
  return [...cycles.values()]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const offences = findOffences()
  for (const o of offences) process.stdout.write(`${o}\n`)
  process.stdout.write(offences.length === 0 ? `layers: ok (${LAYERS.flat().length} units, no cycle, nothing runs up)\n` : `layers: ${offences.length} offences\n`)
  process.exitCode = offences.length === 0 ? 0 : 1
}
