// Imports a JavaScript or TypeScript module (scenarios, config files). TypeScript is bundled by
// esbuild into an ES module next to the source (as Vite does with its config), so relative
// imports of other .ts files work, packages resolve from the project, and the engine is loaded
// once: the file imports the very instances this process already runs.
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { onProcessExit } from '../shared/index.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts'])

function isTypeScript (url: string): boolean {
  return TYPESCRIPT.has(extname(fileURLToPath(url)))
}

export interface ImportableModule {
  /** the URL to import (a compiled copy for TypeScript) */
  url: string
  /** removes the compiled copy, if any */
  dispose: () => void
}

/** For TypeScript, compiles to a hidden `.mjs` beside the source; JavaScript is used as is. */
export async function importableModule (url: string): Promise<ImportableModule> {
  if (!isTypeScript(url)) return { url, dispose: () => {} }
  const source = fileURLToPath(url)
  const out = join(dirname(source), `.${basename(source)}.crosstalk-${randomBytes(4).toString('hex')}.mjs`)
  // removed however the process ends (a second Ctrl-C, SIGTERM, an uncaught error), not only by dispose
  const drop = onProcessExit(() => rmSync(out, { force: true }))
  const dispose = (): void => { drop(); rmSync(out, { force: true }) }
  const { build } = await import('esbuild')
  await build({
    entryPoints: [source],
    outfile: out,
    bundle: true,
    packages: 'external',
    external: ['file:*'],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent'
  }).catch((err: unknown) => { dispose(); throw err })
  return { url: pathToFileURL(out).href, dispose }
}

/** Imports a module once (a TypeScript copy is removed right after). */
export async function importModule (url: string): Promise<Record<string, unknown>> {
  const m = await importableModule(url)
  try {
    return await import(m.url) as Record<string, unknown>
  } finally {
    m.dispose()
  }
}
