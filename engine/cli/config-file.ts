// `crosstalk.config.json` / `.ts` / `.js`: run() options kept next to the project. The file's
// values are the defaults of a command; flags given on the command line win.
import { existsSync, readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.js'
import { checkOptionValues, type Problems, type RunOptions } from '../options/index.js'
import { importModule } from '../scenario/index.js'

export const CONFIG_FILES = ['crosstalk.config.json', 'crosstalk.config.ts', 'crosstalk.config.mts', 'crosstalk.config.js', 'crosstalk.config.mjs']

/** What a config file may set: run() options that are plain data. */
export type ConfigFileOptions = Omit<RunOptions, 'signal' | 'onProgress' | 'cwd'>

/**
 * The explicit `--config` file, else the first default name in `cwd`, else nothing. Its keys and
 * values are checked against the run option table (problems recorded, bad ones left out); a file
 * that is missing or unreadable throws at once.
 */
export async function loadConfigFile (explicit: string | undefined, cwd: string, problems: Problems): Promise<{ path: string, options: ConfigFileOptions } | undefined> {
  const path = explicit !== undefined ? resolve(cwd, explicit) : CONFIG_FILES.map(f => resolve(cwd, f)).find(p => existsSync(p))
  if (path === undefined) return undefined
  if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`)
  let value: unknown
  try {
    if (path.endsWith('.json')) {
      value = JSON.parse(readFileSync(path, 'utf8'))
    } else {
      const mod = await importModule(pathToFileURL(path).href)
      value = mod.default ?? mod
    }
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`config file ${path} must hold an object of run options (e.g. { "users": 500, "thresholds": { ... } })`)
  const options = checkOptionValues(value as Record<string, unknown>, { where: `${basename(path)}: `, configFile: true }, problems)
  return { path, options: options }
}
