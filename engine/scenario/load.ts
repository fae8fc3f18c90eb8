// Resolves a scenario given as a built-in name, a file path or a file URL, imports it, and
// checks its shape. The main thread loads it first so bad scenarios fail before any worker starts.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, extname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ScenarioInvalidError, ScenarioLoadError, ScenarioNotFoundError } from '../errors.js'
import type { Scenario } from './define.js'

export const DEFAULT_SCENARIO = 'default'

/** dist/scenarios/, next to the compiled engine */
const BUILT_IN_DIR = new URL('../../scenarios/', import.meta.url)

export interface LoadedScenario {
  /** file URL the workers import */
  url: string
  /** what the user asked for */
  source: string
  scenario: Scenario<object>
}

export function builtInScenarios (): string[] {
  try {
    return readdirSync(BUILT_IN_DIR)
      .filter(f => f.endsWith('.js'))
      .map(f => f.slice(0, -3))
      .sort()
  } catch {
    return []
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/i

export function resolveScenario (spec: string | URL | undefined, cwd = process.cwd()): string {
  const s = spec ?? DEFAULT_SCENARIO
  if (s instanceof URL || s.startsWith('file:')) {
    const url = s instanceof URL ? s : new URL(s)
    if (!existsSync(url)) throw new ScenarioNotFoundError(`scenario file not found: ${fileURLToPath(url)}`)
    return url.href
  }
  const path = resolve(cwd, s)
  if (NAME.test(s) && !existsSync(path)) {
    const url = new URL(`${s}.js`, BUILT_IN_DIR)
    if (!existsSync(url)) {
      throw new ScenarioNotFoundError(`no scenario named '${s}' (built-in: ${builtInScenarios().join(', ') || 'none'}; or give a file path)`)
    }
    return url.href
  }
  if (!existsSync(path) || !statSync(path).isFile()) throw new ScenarioNotFoundError(`scenario file not found: ${path}`)
  return pathToFileURL(path).href
}

/** Imports a resolved scenario URL and validates its exports. */
export async function importScenario (url: string, source = url): Promise<Scenario<object>> {
  let mod: Record<string, unknown>
  try {
    mod = await import(url) as Record<string, unknown>
  } catch (err) {
    const e = err as { code?: string, message?: string }
    const hint = e.code === 'ERR_UNKNOWN_FILE_EXTENSION'
      ? ' (compile TypeScript scenarios to .js first, or start crosstalk with a TypeScript loader such as `node --import tsx`)'
      : ''
    throw new ScenarioLoadError(`cannot load scenario ${source}: ${e.message ?? String(err)}${hint}`, { cause: err })
  }
  const candidate = (mod.default ?? mod) as Partial<Scenario<object>> | undefined
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.iteration !== 'function') {
    throw new ScenarioInvalidError(`scenario ${source} must export default defineScenario({ name, setup?, iteration, teardown? }) (no iteration function found)`)
  }
  for (const step of ['setup', 'teardown'] as const) {
    if (candidate[step] !== undefined && typeof candidate[step] !== 'function') {
      throw new ScenarioInvalidError(`scenario ${source}: '${step}' must be a function`)
    }
  }
  const fallbackName = basename(fileURLToPath(url), extname(url))
  return { ...candidate, name: typeof candidate.name === 'string' && candidate.name !== '' ? candidate.name : fallbackName } as Scenario<object>
}

export async function loadScenario (spec: string | URL | undefined, cwd?: string): Promise<LoadedScenario> {
  const url = resolveScenario(spec, cwd)
  const source = spec === undefined ? DEFAULT_SCENARIO : String(spec)
  return { url, source, scenario: await importScenario(url, source) }
}
