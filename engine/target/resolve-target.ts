// Where the load goes: a user-given URL (loopback unless explicitly allowed, and reachable), a
// server crosstalk starts from a command (command-target.ts), or the embedded fixture server,
// started in-process or as a child process.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { request } from 'undici'
import { ConfigError, PortInUseError, TargetNotLoopbackError, TargetUnreachableError } from '../errors.js'
import { isLoopbackHost, redactUrl } from '../shared/index.js'
import { CommandTarget, type CommandStartup } from './command-target.js'
import { probeTcp } from './probe-tcp.js'
import { superviseGroup } from './supervise.js'
import { parseTargetSpec, type TargetCommand } from './target-spec.js'
import { FIXTURE_CHILD_ENTRY, fixtureOptionArgs, startEmbeddedFixture, validateFixtureOptions, type FixtureOptions, type FixtureStats } from './embedded-fixture.js'

/** Where the embedded fixture runs: in this process, or in a child process of its own. */
export type FixtureProcess = 'in-process' | 'child'

export interface ResolvedTarget {
  url: string
  /** origin the users connect to (scheme://host:port) */
  origin: string
  /** set when crosstalk started the fixture */
  fixture?: { process: FixtureProcess, pid: number, stats(): Promise<FixtureStats> }
  /** set when crosstalk started the server from a command */
  command?: CommandStartup
  /** the inspector (ws:// URL) of a server crosstalk started with one: a fixture child or a command */
  inspectorUrl?: string
  close(): Promise<void>
}

export function parseTargetUrl (target: string, allowRemote: boolean): URL {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw new ConfigError(`target '${redactUrl(target)}' is not a URL (e.g. http://127.0.0.1:3000)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`target '${redactUrl(target)}' must be an http:// or https:// URL`)
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new TargetNotLoopbackError(`target ${url.host} is not a loopback address (127.0.0.0/8, ::1); pass --allow-remote to load another host`)
  }
  return url
}

export interface ResolveTargetOptions {
  target: string | TargetCommand | undefined
  allowRemote: boolean
  fixture: FixtureOptions & { process: FixtureProcess }
  /** start the server with its inspector (a fixture child or a command) */
  inspect?: boolean
  /** a command target's working directory (default: process.cwd()) */
  cwd?: string
  /** a command target's bound on starting (default 30 s) */
  targetStartTimeoutMs?: number
}

export async function resolveTarget (opts: ResolveTargetOptions): Promise<ResolvedTarget> {
  if (opts.target !== undefined) {
    const problems: string[] = []
    const spec = parseTargetSpec(opts.target, problems)
    if (spec === undefined) throw new ConfigError(problems)
    if (spec.kind === 'command') return await startCommandTarget(spec.command, opts)
    const url = parseTargetUrl(spec.url, opts.allowRemote)
    await probeTcp(url)
    return { url: url.href, origin: url.origin, close: async () => {} }
  }
  const { process: where, ...fixtureOptions } = opts.fixture
  try {
    validateFixtureOptions(fixtureOptions)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  return where === 'child' ? startChildFixture({ ...fixtureOptions, inspect: opts.inspect === true }) : startInProcessFixture(fixtureOptions)
}

async function startCommandTarget (command: TargetCommand, opts: ResolveTargetOptions): Promise<ResolvedTarget> {
  const started = await CommandTarget.start(command, { cwd: opts.cwd ?? process.cwd(), inspect: opts.inspect === true, startTimeoutMs: opts.targetStartTimeoutMs ?? 30_000 })
  return {
    url: started.url,
    origin: new URL(started.url).origin,
    command: started.startup,
    ...(started.inspector !== undefined && { inspectorUrl: started.inspector }),
    close: () => started.stop()
  }
}

async function startInProcessFixture (options: FixtureOptions): Promise<ResolvedTarget> {
  let handle
  try {
    handle = await startEmbeddedFixture(options)
  } catch (err) {
    throw asStartError(err, options.port)
  }
  const h = handle
  return {
    url: h.url,
    origin: new URL(h.url).origin,
    fixture: { process: 'in-process', pid: process.pid, stats: () => Promise.resolve(h.stats()) },
    close: () => h.close()
  }
}

function asStartError (err: unknown, port: number | undefined): Error {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return new PortInUseError(`fixture port ${port} is in use`)
  return err as Error
}

/** CLI flags of the fixture child for the given options (the fixture's own table: every option it has). */
export function fixtureArgs (o: FixtureOptions & { inspect?: boolean }): string[] {
  return [...fixtureOptionArgs({ ...o, port: o.port ?? 0 }), ...(o.inspect === true ? ['--inspect'] : [])]
}

async function startChildFixture (options: FixtureOptions & { inspect?: boolean }): Promise<ResolvedTarget> {
  // its own process group, watched by a supervisor: it dies with crosstalk, however crosstalk ends
  const child = spawn(process.execPath, [FIXTURE_CHILD_ENTRY, ...fixtureArgs(options)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const supervision = superviseGroup(child.pid!)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    new Promise<string>(resolve => lines.once('line', resolve)),
    exited.then(code => { throw childError(stderr, code, options.port) }),
    new Promise<never>((_r, reject) => setTimeout(() => reject(new TargetUnreachableError('fixture child did not start within 10 s')), 10_000).unref())
  ]).catch((err: unknown) => { child.kill('SIGKILL'); supervision.release(); throw err })
  const info = JSON.parse(first) as { url: string, pid: number, inspectorUrl?: string }
  return {
    url: info.url,
    origin: new URL(info.url).origin,
    ...(info.inspectorUrl !== undefined && { inspectorUrl: info.inspectorUrl }),
    fixture: {
      process: 'child',
      pid: info.pid,
      stats: async () => {
        const res = await request(new URL('/stats', info.url), { headersTimeout: 5000, bodyTimeout: 5000 })
        return await res.body.json() as FixtureStats
      }
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
      supervision.release()
    }
  }
}

function childError (stderr: string, code: number | null, port: number | undefined): Error {
  const line = stderr.trim().split('\n').at(-1) ?? ''
  if (/in use/i.test(line)) return new PortInUseError(`fixture port ${port} is in use`)
  if (code === 2) return new ConfigError(line.replace(/^fixture:\s*/, ''))
  return new TargetUnreachableError(`fixture child exited (${code}) before listening: ${line}`)
}
