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
import { canTellListeners, listeningPid, residentBytes } from './proc-info.js'
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
  /** picks the free port for $PORT (tests give one that is taken first) */
  pickPort?: () => Promise<number>
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
/**
 * A free port is picked, closed, then given to the command: another process may bind it between
 * the two (a busy machine, a test runner's other lane). Such a start is retried on a new port.
 */
const PORT_ATTEMPTS = 3
/** a port that answers but belongs to no process of the group: someone else's, until this long */
const FOREIGN_LISTENER_MS = 3000
/** the line of a crashed server that says why (Node prints its version last) */
const ERROR_LINE = /^\s*(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)\b/

export class CommandTarget {
  readonly lifecycle = new Lifecycle<CommandState>('command target', 'spawning', TRANSITIONS)
  readonly #spec: TargetCommand
  readonly #child: ChildProcess
  readonly #supervision: Supervision
  readonly #port: number
  readonly #spawnedAt: number
  readonly #exited: Promise<string>
  /** its pipes are read to the end (after 'exit', the last stderr lines may still be on the way) */
  readonly #drained: Promise<void>
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
    this.#drained = new Promise(resolve => this.#child.once('close', () => resolve()))
    // both pipes are read for the life of the server: a full pipe would block its writes
    createInterface({ input: this.#child.stdout! }).on('line', line => this.#onLine(line))
    createInterface({ input: this.#child.stderr! }).on('line', line => {
      this.#stderrTail = [...this.#stderrTail.slice(-39), line]
      const m = INSPECTOR_LINE.exec(line)
      if (m !== null) this.#inspector = m[1]
      this.#onLine(line)
    })
  }

  /**
   * Spawns the command and waits until it is ready; on any failure its group is stopped first.
   * A port crosstalk picked that was taken before the server bound it (EADDRINUSE) is retried
   * on a new one; a port the user gave is not.
   */
  static async start (spec: TargetCommand, o: CommandTargetOptions): Promise<CommandTarget> {
    const pickPort = o.pickPort ?? freePort
    for (let attempt = 1; ; attempt++) {
      const port = spec.port ?? await pickPort()
      try {
        return await CommandTarget.#startOn(spec, port, o)
      } catch (err) {
        const taken = err instanceof TargetUnreachableError && /\bEADDRINUSE\b/.test(err.message)
        if (!taken || spec.port !== undefined || attempt >= PORT_ATTEMPTS) throw err
      }
    }
  }

  static async #startOn (spec: TargetCommand, port: number, o: CommandTargetOptions): Promise<CommandTarget> {
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
        this.#exited.then(async how => {
          // a process it started may hold the pipes open: its last words are waited for, bounded
          await Promise.race([this.#drained, delay(500)])
          throw new TargetUnreachableError(`'${command}' ended (${how}) before listening on 127.0.0.1:${this.#port} (its PORT)${this.#lastWords()}`)
        }),
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

  /**
   * Probes until the port answers from a process of the command's group (gives up quietly once
   * the command ended: the race reports that). Where /proc tells who listens, an answer from
   * another process is not the server: it took the port first, and the server will fail to bind.
   */
  async #waitListening (): Promise<void> {
    const url = new URL(this.#url)
    let foreignSince: number | undefined
    while (this.#running()) {
      try {
        await probeTcp(url, 500)
      } catch {
        await delay(100)
        continue
      }
      if (!canTellListeners() || listeningPid(this.#child.pid!, this.#port) !== undefined) return
      // a server outside the group (a command that daemonizes) is accepted after a while
      foreignSince ??= performance.now()
      if (performance.now() - foreignSince >= FOREIGN_LISTENER_MS) return
      await delay(100)
    }
    // it ended: the race reports how, once its last words are read
    await new Promise<never>(() => {})
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

  /** The last line that names an error (a crash ends with Node's version), else the last line. */
  #lastWords (): string {
    const lines = this.#stderrTail.filter(l => !INSPECTOR_LINE.test(l) && !l.startsWith('For help, see') && l.trim() !== '')
    const last = lines.findLast(l => ERROR_LINE.test(l)) ?? lines.at(-1)
    return last === undefined ? '' : `: ${last.trim()}`
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

/** A port nothing listens on now (picked by the system, then closed: see PORT_ATTEMPTS). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
