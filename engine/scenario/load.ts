// Resolves a scenario given as a built-in name, a file path or a file URL, imports it, and
// checks its shape. The main thread loads it first so bad scenarios fail before any worker starts.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, extname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ScenarioInvalidError, ScenarioLoadError, ScenarioNotFoundError } from '../errors.js'
import { checkCustomDefinition, type CustomMetricDefinition } from '../metrics/index.js'
import type { Scenario } from './define.js'
import { importableModule } from './import-module.js'
import { checkTags } from '../metrics/index.js'

export const DEFAULT_SCENARIO = 'default'

/** dist/scenarios/, next to the compiled engine */
const BUILT_IN_DIR = new URL('../../scenarios/', import.meta.url)

export interface LoadedScenario {
  /** file URL the workers import */
  url: string
  /** what the user asked for */
  source: string
  scenario: Scenario<object>
  /** removes a compiled TypeScript copy (workers import `url` until the run ends) */
  dispose: () => void
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

/** Imports a resolved scenario URL (JavaScript) and validates its exports; `named` is the file a fallback name comes from. */
export async function importScenario (url: string, source = url, named = url): Promise<Scenario<object>> {
  let mod: Record<string, unknown>
  try {
    mod = await import(url) as Record<string, unknown>
  } catch (err) {
    const e = err as { message?: string }
    throw new ScenarioLoadError(`cannot load scenario ${source}: ${e.message ?? String(err)}`, { cause: err })
  }
  const candidate = (mod.default ?? mod) as Partial<Scenario<object>> | undefined
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.iteration !== 'function') {
    throw new ScenarioInvalidError(`scenario ${source} must export default defineScenario({ name, setup?, iteration, teardown? }) (no iteration function found)`)
  }
  for (const step of ['setup', 'teardown', 'before', 'after'] as const) {
    if (candidate[step] !== undefined && typeof candidate[step] !== 'function') {
      throw new ScenarioInvalidError(`scenario ${source}: '${step}' must be a function`)
    }
  }
  const metrics = checkMetrics(candidate.metrics, source)
  checkScenarioTags(candidate.tags, source)
  const fallbackName = basename(fileURLToPath(named), extname(named))
  return {
    ...candidate,
    name: typeof candidate.name === 'string' && candidate.name !== '' ? candidate.name : fallbackName,
    ...(metrics !== undefined && { metrics })
  } as Scenario<object>
}

/** A scenario's declared `metrics`, checked: every problem in one ScenarioInvalidError. */
function checkMetrics (raw: unknown, source: string): Record<string, CustomMetricDefinition> | undefined {
  if (raw === undefined) return undefined
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ScenarioInvalidError(`scenario ${source}: 'metrics' must be an object like { 'write.to.event': { kind: 'trend', unit: 'ms' } }`)
  }
  const out: Record<string, CustomMetricDefinition> = {}
  const problems: string[] = []
  for (const [name, d] of Object.entries(raw)) {
    const checked = checkCustomDefinition(name, d)
    if (Array.isArray(checked)) problems.push(...checked)
    else out[name] = checked
  }
  if (problems.length > 0) throw new ScenarioInvalidError(`scenario ${source}: ${problems.join('; ')}`)
  return out
}

function checkScenarioTags (tags: unknown, source: string): void {
  if (tags === undefined) return
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    throw new ScenarioInvalidError(`scenario ${source}: 'tags' must be an object of strings such as { team: 'shop' }`)
  }
  try {
    checkTags(tags as Record<string, unknown>)
  } catch (err) {
    throw new ScenarioInvalidError(`scenario ${source}: ${(err as Error).message}`, { cause: err })
  }
}

/** Resolves, compiles (TypeScript) and imports a scenario; `dispose()` once the run is over. */
export async function loadScenario (spec: string | URL | undefined, cwd?: string): Promise<LoadedScenario> {
  const resolved = resolveScenario(spec, cwd)
  const source = spec === undefined ? DEFAULT_SCENARIO : String(spec)
  let m
  try {
    m = await importableModule(resolved)
  } catch (err) {
    throw new ScenarioLoadError(`cannot compile scenario ${source}: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`, { cause: err })
  }
  try {
    return { url: m.url, source, scenario: await importScenario(m.url, source, resolved), dispose: m.dispose }
  } catch (err) {
    m.dispose()
    throw err
  }
}
