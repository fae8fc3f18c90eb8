// The error codes, the code that raises them and the README agree: every code defined is
// documented, every code the engine mentions is defined, every error class is raised somewhere.
import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// from dist/test/ to the repository root: the TypeScript sources, not the compiled output
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ERRORS_TS = join(ROOT, 'engine', 'errors.ts')

function engineSources (dir = join(ROOT, 'engine')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return engineSources(path)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

const errorsSource = readFileSync(ERRORS_TS, 'utf8')
const definedCodes = [...errorsSource.matchAll(/readonly code = '(CT_ERR_[A-Z0-9_]+)'/g)].map(m => m[1]!)
const errorClasses = [...errorsSource.matchAll(/^export class (\w+) extends CrosstalkError\b/gm)].map(m => m[1]!)
const others = engineSources().filter(p => p !== ERRORS_TS).map(p => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }))

test('errors.ts defines codes and classes (the parsing below sees them)', t => {
  t.true(definedCodes.length >= 10, definedCodes.join())
  t.is(errorClasses.length, definedCodes.length, 'one code per class')
  t.is(new Set(definedCodes).size, definedCodes.length, 'codes are unique')
})

test('every code defined in engine/errors.ts is documented in README.md', t => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const missing = definedCodes.filter(code => !new RegExp(`\\b${code}\\b`).test(readme))
  t.deepEqual(missing, [], 'codes missing from README.md')
})

test('every CT_ERR_* code the engine mentions is defined in engine/errors.ts', t => {
  const undefinedCodes: string[] = []
  for (const { path, text } of others) {
    for (const [mention] of text.matchAll(/CT_ERR_[A-Z0-9_]*[A-Z0-9]_?\*?/g)) {
      // `CT_ERR_THRESHOLD_*` in a comment names a family: some defined code must start with it
      const ok = mention.endsWith('*')
        ? definedCodes.some(code => code.startsWith(mention.slice(0, -1)))
        : definedCodes.includes(mention)
      if (!ok) undefinedCodes.push(`${path}: ${mention}`)
    }
  }
  t.deepEqual(undefinedCodes, [], 'codes used but not defined')
})

test('every error class exported from engine/errors.ts is used in engine/ outside errors.ts', t => {
  const unused = errorClasses.filter(name => !others.some(({ text }) => new RegExp(`\\b${name}\\b`).test(text)))
  t.deepEqual(unused, [], 'error classes nothing in engine/ uses')
})
