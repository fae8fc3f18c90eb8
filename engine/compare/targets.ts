// What `--baseline` / `--candidate` name: a URL, the fixture in a configuration
// (`fixture:legacy`, `fixture:context?latencyMs=12`), a command that starts a server
// (`cmd:node server.js`, given a free PORT), or a report.json from an earlier run.
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'
import { checkSchemaVersion, type RunResult } from '../result/index.js'
import { CMD_PREFIX, FIXTURE_MODES, FIXTURE_OPTION_TABLE, parseFixtureOptionValues, parseTargetSpec, parseTargetUrl, probeTcp, resolveTarget, type CommandStartup, type FixtureOptions, type TargetCommand } from '../target/index.js'

export type CompareTarget =
  | { kind: 'url', spec: string, url: string }
  | { kind: 'fixture', spec: string, options: FixtureOptions }
  | { kind: 'command', spec: string, command: TargetCommand }
  | { kind: 'report', spec: string, path: string }

/** A target being served for the comparison's rounds. */
export interface LiveTarget {
  url: string
  /** the server's inspector (fixtures and commands started here), for heap slopes */
  inspector?: string
  /** a command target's start-up: time to listening and resident memory */
  startup?: CommandStartup
  close: () => Promise<void>
}

// the compared fixture is started here on a free loopback port, and its mode is the part before '?'
const QUERY_OPTIONS = FIXTURE_OPTION_TABLE.filter(o => o.key !== 'port' && o.key !== 'host' && o.key !== 'mode')

export function parseCompareTarget (spec: string, cwd: string): CompareTarget {
  const s = spec.trim()
  if (s.startsWith('fixture:')) return { kind: 'fixture', spec, options: parseFixtureQuery(spec, s.slice('fixture:'.length)) }
  if (s.startsWith(CMD_PREFIX)) {
    const problems: string[] = []
    const parsed = parseTargetSpec(s, problems)
    if (parsed?.kind !== 'command') throw new ConfigError(problems)
    return { kind: 'command', spec, command: parsed.command }
  }
  if (/^https?:\/\//.test(s)) return { kind: 'url', spec, url: s }
  if (s.endsWith('.json')) {
    const path = resolve(cwd, s)
    if (!existsSync(path)) throw new ConfigError(`report not found: ${path}`)
    return { kind: 'report', spec, path }
  }
  throw new ConfigError(`'${spec}' is not a target: use a URL (http://127.0.0.1:3000), fixture:legacy / fixture:context[?latencyMs=12], cmd:<command starting a server on $PORT>, or a report.json`)
}

/** `context?latencyMs=12&bugs=a,b` -> fixture options, every problem at once. */
function parseFixtureQuery (spec: string, text: string): FixtureOptions {
  const [mode, query = ''] = text.split('?', 2) as [string, string?]
  const problems: string[] = []
  if (!(FIXTURE_MODES as readonly string[]).includes(mode)) problems.push(`'${spec}': the fixture's mode must be ${FIXTURE_MODES.join(' or ')} (e.g. fixture:context?latencyMs=12)`)
  const values: Record<string, string[]> = {}
  for (const [key, value] of new URLSearchParams(query)) {
    if (QUERY_OPTIONS.some(o => o.key === key)) (values[key] ??= []).push(value)
    else problems.push(`'${spec}': unknown fixture option '${key}' (use ${QUERY_OPTIONS.map(o => o.key).join(', ')})`)
  }
  const options = parseFixtureOptionValues(values, o => `'${spec}': ${o.key}`, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return { ...options, mode: mode as FixtureOptions['mode'] }
}

export function readReport (path: string): RunResult {
  let r: RunResult
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as RunResult
  } catch (err) {
    throw new ConfigError(`cannot read report ${path}: ${(err as Error).message}`)
  }
  if (r === null || typeof r !== 'object' || !Array.isArray(r.timeSeries) || r.loadWindow === undefined) {
    throw new ConfigError(`${path} is not a crosstalk report.json with a time series (schemaVersion ${String((r as { schemaVersion?: unknown })?.schemaVersion)})`)
  }
  checkSchemaVersion(path, r.schemaVersion)
  return r
}

/** Starts (or checks) a live target; fixtures and commands run in their own process, inspectable for heap slopes. */
export async function startCompareTarget (t: CompareTarget, o: { allowRemote: boolean, inspect: boolean, startTimeoutMs: number, cwd: string }): Promise<LiveTarget> {
  switch (t.kind) {
    case 'url': {
      const url = parseTargetUrl(t.url, o.allowRemote)
      await probeTcp(url)
      return { url: url.href, close: async () => {} }
    }
    case 'fixture':
    case 'command': {
      const target = await resolveTarget({
        target: t.kind === 'command' ? t.command : undefined,
        allowRemote: false,
        fixture: { ...(t.kind === 'fixture' && t.options), process: 'child' },
        inspect: o.inspect,
        cwd: o.cwd,
        targetStartTimeoutMs: o.startTimeoutMs
      })
      return {
        url: target.url,
        ...(target.inspectorUrl !== undefined && { inspector: target.inspectorUrl }),
        ...(target.command !== undefined && { startup: target.command }),
        close: () => target.close()
      }
    }
    case 'report':
      throw new ConfigError(`${t.spec} is a report, not a server to run against`)
  }
}
