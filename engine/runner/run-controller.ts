// The run controller: owns the run's deadlines, why it stopped, and the order it shuts down in
// (shutdown.ts). A run moves
//   setup -> load -> stopping -> settled   (or setup -> stopping when stopped before the start)
// or to `failed` from any of the first three when the engine itself threw.
// The first stop reason wins: a graceful one (abortOnFail, breakpoint) lets in-flight iterations
// finish; an abrupt one (signal, hard deadline) cuts them. A run that ends by its plan gets
// `duration` or `iterations`; an iteration-count run cut by maxDuration gets `max-duration`.
// A failed run has no stop reason: it cuts the load, shuts down, and rethrows (no report).
import { planDeadlines, type Deadlines, type DeadlineInput } from '../pool/index.js'
import type { StopReason } from '../result/index.js'
import { Lifecycle, MAX_DURATION_MS, type Transitions } from '../shared/index.js'
import { Shutdown } from './shutdown.js'

export type RunState = 'setup' | 'load' | 'stopping' | 'settled' | 'failed'

const TRANSITIONS: Transitions<RunState> = {
  setup: ['load', 'stopping', 'settled', 'failed'],
  load: ['stopping', 'settled', 'failed'],
  stopping: ['settled', 'failed'],
  settled: [],
  failed: []
}

/** stop reasons that let in-flight iterations finish (the graceful stop) */
const GRACEFUL: ReadonlySet<StopReason> = new Set(['abort-on-fail', 'breakpoint'])

/** What the controller stops: the cohort runner. */
export interface Stoppable {
  stopGracefully: () => void
  abort: () => void
}

export interface RunControllerOptions extends DeadlineInput {
  /** the plan's iterations per user (null: a time-bound plan) */
  iterations: number | null
  /** an outside stop (Ctrl-C, the caller's AbortController) */
  signal?: AbortSignal | undefined
}

export class RunController {
  readonly deadlines: Deadlines
  readonly lifecycle = new Lifecycle<RunState>('run', 'setup', TRANSITIONS)
  /** what went wrong in the engine itself (a hard deadline reached), one line each */
  readonly failures: string[] = []
  /** the steps the run ends with, in their fixed order */
  readonly shutdown = new Shutdown()
  readonly #o: RunControllerOptions
  readonly #onSignal = (): void => {
    this.#signalled = true
    this.stop('interrupt')
  }

  #target: Stoppable | undefined
  #signalled = false
  #reason: StopReason | undefined
  #hardTimer: NodeJS.Timeout | undefined
  #loadStartedAt: number | null = null

  constructor (options: RunControllerOptions) {
    this.#o = options
    this.deadlines = planDeadlines(options)
    options.signal?.addEventListener('abort', this.#onSignal, { once: true })
  }

  /** performance.now() when the start barrier opened (null before) */
  get loadStartedAt (): number | null {
    return this.#loadStartedAt
  }

  get stopReason (): StopReason | undefined {
    return this.#reason
  }

  /** stopped from outside at any point (even after another stop reason) */
  get interrupted (): boolean {
    return this.#signalled
  }

  /** The load is run by `target`; a stop asked before this is passed on at once. */
  attach (target: Stoppable): void {
    this.#target = target
    if (this.#o.signal?.aborted === true) this.#onSignal()
    else if (this.#reason !== undefined) this.#passOn(this.#reason)
  }

  /** The start barrier opened at `at` (performance.now()): the hard deadline counts from here. */
  loadStarted (at: number): void {
    this.#loadStartedAt = at
    this.lifecycle.tryTo('load')
    const hardMs = this.deadlines.hardMs
    this.#hardTimer = setTimeout(() => {
      this.failures.push(`hard deadline of ${hardMs} ms reached: remaining users aborted`)
      this.stop('hard-deadline')
    }, Math.min(MAX_DURATION_MS, Math.max(0, at + hardMs - performance.now())))
  }

  /** Stops the run for `reason`; the first reason is the one reported. */
  stop (reason: StopReason): void {
    if (this.lifecycle.is('settled', 'failed')) return
    if (this.#reason === undefined) this.#reason = reason
    this.lifecycle.tryTo('stopping')
    if (this.#target !== undefined) this.#passOn(reason)
  }

  /** Every cohort settled; a run nothing stopped ended by its plan. */
  settled (load: { startedAt: number | null, endedAt: number }): void {
    if (this.#reason === undefined) {
      const ranMs = load.startedAt === null ? 0 : load.endedAt - load.startedAt
      const { durationMs, iterations } = this.#o
      this.#reason = durationMs === null
        ? (ranMs >= this.deadlines.loadEndMs ? 'max-duration' : 'iterations')
        : (iterations !== null && ranMs < durationMs ? 'iterations' : 'duration')
    }
    this.lifecycle.to('settled')
    this.close()
  }

  /**
   * The engine threw (not the scenario: its errors are counted): the load still running is cut,
   * and the shutdown rethrows `err` after its closes. After the load settled only the shutdown
   * learns of it.
   */
  fail (err: unknown): void {
    this.shutdown.fail(err)
    if (!this.lifecycle.tryTo('failed')) return
    this.#target?.abort()
    this.close()
  }

  close (): void {
    clearTimeout(this.#hardTimer)
    this.#o.signal?.removeEventListener('abort', this.#onSignal)
  }

  #passOn (reason: StopReason): void {
    if (GRACEFUL.has(reason)) this.#target?.stopGracefully()
    else this.#target?.abort()
  }
}
