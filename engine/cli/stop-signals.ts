// Ctrl-C and SIGTERM (CI cancellation, `timeout`, a container stop) during `run` and `compare`.
// The first signal stops the work gracefully so its report is written; the command then exits
// 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once: the 'exit' cleanups stop every
// child process group and remove temporary files on the way out.
import { EXIT_INTERRUPTED, EXIT_TERMINATED } from '../errors.js'
import { Lifecycle, type Transitions } from '../shared/index.js'

type StopState = 'listening' | 'stopping' | 'closed'

const TRANSITIONS: Transitions<StopState> = {
  listening: ['stopping', 'closed'],
  stopping: ['closed'],
  closed: []
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
type StopSignal = typeof SIGNALS[number]

export class StopSignals {
  readonly controller = new AbortController()
  readonly lifecycle = new Lifecycle<StopState>('stop signals', 'listening', TRANSITIONS)
  #first: StopSignal | undefined
  readonly #what: string

  /** `what`: what the first signal lets finish, for the message (e.g. 'stopping users and writing the report'). */
  constructor (what: string) {
    this.#what = what
    for (const sig of SIGNALS) process.on(sig, () => { this.#received(sig) })
  }

  get signal (): AbortSignal {
    return this.controller.signal
  }

  /** The exit code of an interrupted command: 143 after SIGTERM, else 130 (also for an API abort). */
  get exitCode (): number {
    return this.#first === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED
  }

  /**
   * The work is done. The handlers stay: the process may still be closing children and writing
   * when a signal comes, and Node's default would end it with no exit code.
   */
  close (): void {
    if (this.lifecycle.is('closed')) return
    this.lifecycle.to('closed')
  }

  #received (sig: StopSignal): void {
    if (this.lifecycle.is('closed')) {
      this.#first ??= sig
      process.exit(this.exitCode) // nothing is left to stop gracefully
    }
    if (this.lifecycle.is('stopping')) process.exit(this.exitCode) // a second signal: leave now
    this.#first = sig
    this.lifecycle.to('stopping')
    const again = sig === 'SIGINT' ? 'Ctrl-C again' : 'send it again'
    process.stderr.write(`\ncrosstalk: ${sig === 'SIGINT' ? 'interrupted' : 'terminated (SIGTERM)'}, ${this.#what} (${again} to quit at once)\n`)
    this.controller.abort()
  }
}
