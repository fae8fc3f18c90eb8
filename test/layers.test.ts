// The layer check (`npm run check:layers`, also run by CI) on this checkout and on copies of the
// engine with a planted offence of each kind: each is found, and the real tree has none.
import test from 'ava'
import { appendFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from './support.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CHECK = new URL('../../.ci/check-layers.mjs', import.meta.url).href
const { findOffences } = await import(CHECK) as { findOffences: (root?: string) => string[] }

/** A copy of the sources (engine/, and examples/, scenarios/ and fixtures/ that use it) with `line` appended to engine/`file`. */
function planted (t: Parameters<typeof tempDir>[0], file: string, line: string): string {
  const root = tempDir(t)
  for (const dir of ['engine', 'examples', 'scenarios', 'fixtures']) {
    mkdirSync(join(root, dir))
    cpSync(join(REPO, dir), join(root, dir), { recursive: true })
  }
  appendFileSync(join(root, 'engine', file), `\n${line}\n`)
  return root
}

test('this checkout has no import cycle, nothing that runs up, one door to the fixture', (t) => {
  t.deepEqual(findOffences(), [])
})

test('an import that runs up the layers is found, with the cycle it closes', (t) => {
  const offences = findOffences(planted(t, 'shared/loopback.ts', "import { run } from '../runner/index.js'\nexport const x = run"))
  t.true(offences.some(o => o.includes('engine/shared/loopback.ts') && o.includes('runs up the layers (shared is below runner)')), offences.join('\n'))
  t.true(offences.some(o => o.startsWith('import cycle between folders: ')), offences.join('\n'))
})

test('an import of fixtures/ outside the door, and one past a folder index, are found', (t) => {
  const offences = findOffences(planted(t, 'pool/messages.ts', "import type { X } from '../../fixtures/server.js'\nimport { Probes } from '../probes/probes.js'"))
  t.true(offences.some(o => o.includes("'../../fixtures/server.js'") && o.includes('the one door')), offences.join('\n'))
  t.true(offences.some(o => o.includes("'../probes/probes.js'") && o.includes('go through probes/index.ts')), offences.join('\n'))
  t.is(offences.length, 2)
})

test('a type-only import runs up the layers just the same', (t) => {
  const offences = findOffences(planted(t, 'metrics/names.ts', "import type { RunOptions } from '../options/index.js'"))
  t.is(offences.filter(o => o.includes('runs up the layers (metrics is below options)')).length, 1, offences.join('\n'))
})

test('an index that re-exports what no other folder uses is found', (t) => {
  const name = ['never', 'Used', 'Outside'].join('') // spelled apart: this file is in the copy too
  const offences = findOffences(planted(t, 'pool/index.ts', `export { planCohorts as ${name} } from './cohorts.js'`))
  t.deepEqual(offences, [`engine/pool/index.ts: re-exports '${name}', which nothing outside pool/ uses`])
})

test('a name only tests use is no reason to re-export it: they import it from its own file', (t) => {
  // planCohorts: used by test/units.test.ts (from pool/cohorts.js), by nothing outside pool/ in engine/
  const root = planted(t, 'pool/index.ts', "export { planCohorts } from './cohorts.js'")
  mkdirSync(join(root, 'test'))
  cpSync(join(REPO, 'test'), join(root, 'test'), { recursive: true })
  t.deepEqual(findOffences(root), ["engine/pool/index.ts: re-exports 'planCohorts', which nothing outside pool/ uses"])
})

test("README's Layout lists the engine's layers in the order check-layers.mjs holds them", async (t) => {
  const { LAYERS } = await import(CHECK) as { LAYERS: string[][] }
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  // the lines indented under engine/: a folder (`shared/`) or a root file (`errors.ts`)
  const listed = [...layout.matchAll(/^ {2}(\S+)/gm)].map(m => m[1]!.replace(/\/$/, ''))
  const layers = LAYERS.flat().filter(u => u !== 'index.ts' && u !== 'ava.ts')
  t.deepEqual(listed, layers)
})
