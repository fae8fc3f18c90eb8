// A server crosstalk starts itself (`--target 'cmd:node server.js'`): given a free port in $PORT
// and HOST=127.0.0.1, ready once the port accepts a connection (or a given line appears), and
// stopped with its whole process group on every way out (stop(), crosstalk's exit, a crash:
// the supervisor of supervise.ts). Its URL is always loopback. With `inspect`, it is started with
// the inspector on 127.0.0.1 and a random port, and the inspector's URL is read from its stderr.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { TargetNotLoopbackError, TargetUnreachableError } from '../errors.js'
import type { TargetStartup } from '../result/index.js'
import { isLoopbackHost, Lifecycle, delay, type Transitions } from '../shared/index.js'
import { listeningPid, residentBytes } from './proc-info.js'
import { probeTcp } from './probe-tcp.js'
import { superviseGroup, type Supervision } from './supervise.js'
import type { TargetCommand } from './target-spec.js'

/** How the command started: reported in report.json and the summary's target line. */
export type CommandStartup = TargetStartup

export interface CommandTargetOptions {
  /** resolves a relative cwd and is the default one */
  cwd: string
  /** start it with --inspect=127.0.0.1:0 (NODE_OPTIONS) and read the inspector's URL */
  inspect: boolean
  startTimeoutMs: number
}

type CommandState = 'spawning' | 'listening' | 'stopping' | 'stopped'

const TRANSITIONS: Transitions<CommandState> = {
  spawning: ['listening', 'stopping'],
  listening: ['stopping'],
  stopping: ['stopped'],
  stopped: []
}

/** Shell syntax (quotes, variables, pipes, redirections, globs ...): such a command runs under `sh -c`. */
const SHELL_SYNTAX = /[^\w@%+=:,./\s-]/
const INSPECTOR_LINE = /Debugger listening on (ws:\/\/\S+)/
const URL_IN_LINE = /https?:\/\/[^\s'"<>]+/
/** after SIGTERM, how long the group gets before SIGKILL */
const STOP_GRACE_MS = 3000

export class CommandTarget {
  readonly lifecycle = new Lifecycle<CommandState>('command target', 'spawning', TRANSITIONS)
  readonly #spec: TargetCommand
  readonly #child: ChildProcess
  readonly #supervision: Supervision
  readonly #port: number
  readonly #spawnedAt: number
  readonly #exited: Promise<string>
  readonly #lines: Array<(line: string) => void> = []
  #stderrTail: string[] = []
  #inspector: string | undefined
  #url: string
  #startup: CommandStartup | undefined

  private constructor (spec: TargetCommand, port: number, child: ChildProcess) {
    this.#spec = spec
    this.#port = port
    this.#url = `http://127.0.0.1:${port}/`
    this.#child = child
    this.#spawnedAt = performance.now()
    // its own process group (the shell and the server), watched by a supervisor: it dies with crosstalk
    this.#supervision = superviseGroup(this.#child.pid!)
    this.#exited = new Promise(resolve => this.#child.once('exit', (code, signal) => resolve(signal === null ? `exit code ${code}` : `signal ${signal}`)))
    // both pipes are read for the life of the server: a full pipe would block its writes
    createInterface({ input: this.#child.stdout! }).on('line', line => this.#onLine(line))
    createInterface({ input: this.#child.stderr! }).on('line', line => {
      this.#stderrTail = [...this.#stderrTail.slice(-19), line]
      const m = INSPECTOR_LINE.exec(line)
      if (m !== null) this.#inspector = m[1]
      this.#onLine(line)
    })
  }

  /** Spawns the command and waits until it is ready; on any failure its group is stopped first. */
  static async start (spec: TargetCommand, o: CommandTargetOptions): Promise<CommandTarget> {
    const port = spec.port ?? await freePort()
    const child = spawnCommand(spec, port, o)
    // no such program or cwd: 'error' instead of 'spawn', and no process to stop
    const failed = await new Promise<Error | undefined>(resolve => {
      child.once('error', resolve)
      child.once('spawn', () => resolve(undefined))
    })
    if (failed !== undefined) throw new TargetUnreachableError(`'${spec.command}' could not start in ${spec.cwd ?? o.cwd}: ${(failed as NodeJS.ErrnoException).code ?? failed.message}`)
    const target = new CommandTarget(spec, port, child)
    try {
      await target.#waitReady(o)
    } catch (err) {
      await target.stop()
      throw err
    }
    return target
  }

  /** http://127.0.0.1:$PORT/ (or the loopback URL of the ready line) */
  get url (): string {
    return this.#url
  }

  get startup (): CommandStartup {
    if (this.#startup === undefined) throw new Error('command target: not started')
    return this.#startup
  }

  get inspector (): string | undefined {
    return this.#inspector
  }

  async #waitReady (o: CommandTargetOptions): Promise<void> {
    const { command } = this.#spec
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.#spec.ready === undefined ? this.#waitListening() : this.#waitReadyLine(this.#spec.ready),
        // a server that dies while we wait is reported at once, with how it ended and its last words
        this.#exited.then(how => { throw new TargetUnreachableError(`'${command}' ended (${how}) before listening on 127.0.0.1:${this.#port} (its PORT)${this.#lastWords()}`) }),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new TargetUnreachableError(`'${command}' did not ${this.#spec.ready === undefined ? `listen on 127.0.0.1:${this.#port} (its PORT)` : `print its ready line (${String(this.#spec.ready)})`} within ${o.startTimeoutMs} ms (targetStartTimeout)${this.#lastWords()}`)), o.startTimeoutMs)
        })
      ])
      if (o.inspect) await this.#waitInspector()
    } finally {
      clearTimeout(timer)
    }
    this.lifecycle.to('listening')
    const startMs = Math.round(performance.now() - this.#spawnedAt)
    const pid = listeningPid(this.#child.pid!, this.#port) ?? this.#child.pid!
    const rssBytes = residentBytes(pid)
    this.#startup = { command, pid, startMs, ...(rssBytes !== undefined && { rssBytes }), ...(this.#inspector !== undefined && { inspector: this.#inspector }) }
  }

  /** Probes until the port answers (gives up quietly once the command ended: the race reports that). */
  async #waitListening (): Promise<void> {
    const url = new URL(this.#url)
    while (this.#running()) {
      try {
        return await probeTcp(url, 500)
      } catch {
        await delay(100)
      }
    }
  }

  async #waitReadyLine (ready: string | RegExp): Promise<void> {
    const line = await new Promise<string>(resolve => {
      this.#lines.push(l => { if (typeof ready === 'string' ? l.includes(ready) : ready.test(l)) resolve(l) })
    })
    this.#lines.length = 0
    const found = URL_IN_LINE.exec(line)?.[0]
    if (found === undefined) return
    const url = new URL(found)
    // the started server is loopback only, whatever it prints
    if (!isLoopbackHost(url.hostname)) throw new TargetNotLoopbackError(`'${this.#spec.command}' says it is ready at ${url.host}, which is not a loopback address: a started server must listen on 127.0.0.1 (its HOST)`)
    this.#url = url.href
  }

  /** The inspector prints its line before the server runs; its pipe may still be on the way. */
  async #waitInspector (): Promise<void> {
    for (let waited = 0; this.#inspector === undefined && waited < 2000; waited += 50) await delay(50)
    if (this.#inspector === undefined) throw new TargetUnreachableError(`'${this.#spec.command}' started without an inspector (no 'Debugger listening on ws://...' on its stderr): leak detection and CPU profiles need a node server that keeps NODE_OPTIONS`)
  }

  #onLine (line: string): void {
    for (const listener of this.#lines) listener(line)
  }

  #running (): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  #lastWords (): string {
    const last = this.#stderrTail.filter(l => !INSPECTOR_LINE.test(l) && !l.startsWith('For help, see')).at(-1)
    return last === undefined ? '' : `: ${last}`
  }

  /** Stops the whole group: SIGTERM, SIGKILL after a grace period; idempotent. */
  async stop (): Promise<void> {
    if (!this.lifecycle.tryTo('stopping')) return
    const pgid = this.#child.pid!
    signalGroup(pgid, 'SIGTERM')
    const force = setTimeout(() => signalGroup(pgid, 'SIGKILL'), STOP_GRACE_MS)
    // the group, not just the spawned process: a shell may end before the server it started
    await this.#exited
    for (let waited = 0; groupAlive(pgid) && waited < STOP_GRACE_MS + 2000; waited += 50) await delay(50)
    clearTimeout(force)
    signalGroup(pgid, 'SIGKILL')
    this.#supervision.release()
    this.lifecycle.to('stopped')
  }
}

function spawnCommand (spec: TargetCommand, port: number, o: CommandTargetOptions): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, PORT: String(port), HOST: '127.0.0.1' }
  if (o.inspect) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim()
  const options = { cwd: spec.cwd ?? o.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] }
  const words = spec.command.trim().split(/\s+/)
  // without shell syntax it runs directly: its pid is the server's, and no shell stands between
  const shell = SHELL_SYNTAX.test(spec.command) || words[0]!.includes('=')
  return shell ? spawn(spec.command, { ...options, shell: true }) : spawn(words[0]!, words.slice(1), options)
}

function signalGroup (pgid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pgid, sig) } catch { /* already gone */ }
}

function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
