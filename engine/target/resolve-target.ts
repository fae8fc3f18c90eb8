// Where the load goes: a user-given URL (loopback unless explicitly allowed, and reachable), or
// the embedded fixture server, started in-process or as a child process.
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { request } from 'undici'
import { ConfigError, PortInUseError, TargetNotLoopbackError, TargetUnreachableError } from '../errors.js'
import { isLoopbackHost, redactUrl } from '../shared/index.js'
import { superviseGroup } from './supervise.js'
import { FIXTURE_CHILD_ENTRY, fixtureOptionArgs, startEmbeddedFixture, validateFixtureOptions, type FixtureOptions, type FixtureStats } from './embedded-fixture.js'

/** Where the embedded fixture runs: in this process, or in a child process of its own. */
export type FixtureProcess = 'in-process' | 'child'

export interface ResolvedTarget {
  url: string
  /** origin the users connect to (scheme://host:port) */
  origin: string
  /** set when crosstalk started the fixture */
  fixture?: { process: FixtureProcess, pid: number, inspectorUrl?: string, stats(): Promise<FixtureStats> }
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

/** Opens and closes one TCP connection, so an unreachable target fails before any worker starts. */
export function probeTcp (url: URL, timeoutMs = 3000): Promise<void> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const fail = (why: string): void => {
      socket.destroy()
      reject(new TargetUnreachableError(`target ${url.host} is unreachable: ${why}`))
    }
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
    socket.once('connect', () => { socket.end(); resolve() })
  })
}

export async function resolveTarget (opts: { target: string | undefined, allowRemote: boolean, fixture: FixtureOptions & { process: FixtureProcess }, inspect?: boolean }): Promise<ResolvedTarget> {
  if (opts.target !== undefined) {
    const url = parseTargetUrl(opts.target, opts.allowRemote)
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
    fixture: {
      process: 'child',
      pid: info.pid,
      ...(info.inspectorUrl !== undefined && { inspectorUrl: info.inspectorUrl }),
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
