// What `--baseline` / `--candidate` name: a URL, the fixture in a configuration
// (`fixture:legacy`, `fixture:context?latencyMs=12`), a command that starts a server
// (`cmd:node server.js`, given a free PORT), or a report.json from an earlier run.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError, TargetUnreachableError } from '../errors.js'
import type { RunResult } from '../result/index.js'
import { FIXTURE_MODES, FIXTURE_OPTION_TABLE, parseFixtureOptionValues, parseTargetUrl, probeTcp, resolveTarget, superviseGroup, type FixtureOptions } from '../target/index.js'

export type CompareTarget =
  | { kind: 'url', spec: string, url: string }
  | { kind: 'fixture', spec: string, options: FixtureOptions }
  | { kind: 'command', spec: string, command: string }
  | { kind: 'report', spec: string, path: string }

/** A target being served for the comparison's rounds. */
export interface LiveTarget {
  url: string
  /** the server's inspector (fixtures started here), for heap slopes */
  inspector?: string
  close: () => Promise<void>
}

// the compared fixture is started here on a free loopback port, and its mode is the part before '?'
const QUERY_OPTIONS = FIXTURE_OPTION_TABLE.filter(o => o.key !== 'port' && o.key !== 'host' && o.key !== 'mode')

export function parseCompareTarget (spec: string, cwd: string): CompareTarget {
  const s = spec.trim()
  if (s.startsWith('fixture:')) return { kind: 'fixture', spec, options: parseFixtureQuery(spec, s.slice('fixture:'.length)) }
  if (s.startsWith('cmd:')) {
    const command = s.slice(4).trim()
    if (command === '') throw new ConfigError(`'${spec}': give the command that starts the server, e.g. cmd:node server.js (it gets a free port in PORT)`)
    return { kind: 'command', spec, command }
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
  return r
}

/** Starts (or checks) a live target; the fixture runs in its own process, inspectable for heap slopes. */
export async function startCompareTarget (t: CompareTarget, o: { allowRemote: boolean, inspect: boolean, startTimeoutMs: number }): Promise<LiveTarget> {
  switch (t.kind) {
    case 'url': {
      const url = parseTargetUrl(t.url, o.allowRemote)
      await probeTcp(url)
      return { url: url.href, close: async () => {} }
    }
    case 'fixture': {
      const target = await resolveTarget({ target: undefined, allowRemote: false, fixture: { ...t.options, process: 'child' }, inspect: o.inspect })
      return { url: target.url, ...(target.fixture?.inspectorUrl !== undefined && { inspector: target.fixture.inspectorUrl }), close: () => target.close() }
    }
    case 'command':
      return await startCommand(t, o.startTimeoutMs)
    case 'report':
      throw new ConfigError(`${t.spec} is a report, not a server to run against`)
  }
}

async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolvePort(port))
    })
  })
}

async function startCommand (t: Extract<CompareTarget, { kind: 'command' }>, timeoutMs: number): Promise<LiveTarget> {
  const port = await freePort()
  // its own process group (the shell and the server), watched by a supervisor: it dies with crosstalk
  const child: ChildProcess = spawn(t.command, { shell: true, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' } })
  const supervision = superviseGroup(child.pid!)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000) })
  const exited = new Promise<string>(resolveExit => child.once('exit', (code, signal) => resolveExit(signal === null ? `exit code ${code}` : `signal ${signal}`)))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid!, 'SIGTERM') } catch { /* already gone */ }
      const force = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ } }, 3000)
      await exited
      clearTimeout(force)
    }
    supervision.release()
  }
  try {
    await Promise.race([
      waitListening(t.command, new URL(`http://127.0.0.1:${port}/`), timeoutMs, () => child.exitCode !== null || child.signalCode !== null),
      // a server that dies while we wait is reported at once, with how it ended and its last words
      exited.then(how => { throw new TargetUnreachableError(`'${t.command}' ended (${how}) before listening on PORT=${port}: ${lastLine(stderr)}`) })
    ])
  } catch (err) {
    await stop()
    throw err
  }
  return { url: `http://127.0.0.1:${port}/`, close: stop }
}

function lastLine (text: string): string {
  return text.trim().split('\n').at(-1) ?? ''
}

/** Probes until the port answers; gives up quietly once `ended` (the race reports that). */
async function waitListening (command: string, url: URL, timeoutMs: number, ended: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!ended()) {
    try {
      return await probeTcp(url, 500)
    } catch {
      if (performance.now() > deadline) throw new TargetUnreachableError(`'${command}' did not listen on 127.0.0.1:${url.port} (its PORT) within ${timeoutMs} ms`)
      await sleep(100)
    }
  }
}
