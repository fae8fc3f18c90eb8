// The scenario's run-wide steps on the main thread, as a lifecycle:
//   idle -> before -> ready -> after -> done     (a scenario without before/after passes through)
//   before -> failed    (threw, rejected, overran runStepTimeout, returned data no worker can receive)
//   before -> cut       (the run was interrupted while before ran)
// `after` runs only from `ready`: what `before` did not finish creating is not `after`'s to undo.
// A failed `before` stops the run (exit 2) before any user exists; a failed `after` is one failure
// line of a result whose measurements are kept.
import { createRunContext, type RunContextOptions } from '../context/index.js'
import { isCrosstalkError, RunSetupError } from '../errors.js'
import type { Scenario } from '../scenario/index.js'
import { Lifecycle, redact, registerRowSecrets, scenarioFrame, withTimeout, type Transitions } from '../shared/index.js'

export type RunStepState = 'idle' | 'before' | 'ready' | 'failed' | 'cut' | 'after' | 'done'

const TRANSITIONS: Transitions<RunStepState> = {
  idle: ['before'],
  before: ['ready', 'failed', 'cut'],
  ready: ['after'],
  failed: [],
  cut: [],
  after: ['done'],
  done: []
}

export interface RunStepsOptions {
  scenario: Pick<Scenario<object>, 'before' | 'after'>
  /** the scenario as the user named it (the file), for messages */
  source: string
  context: RunContextOptions
  timeoutMs: number
  /** an outside stop: cuts `before` (the run then ends interrupted, without `after`) */
  signal?: AbortSignal | undefined
}

/** what `before` resolves with when the run was interrupted first */
const CUT = Symbol('cut')

/** One line from whatever a step threw: its code (one of ours), message, where in the scenario, secrets masked. */
function describe (err: unknown): string {
  const message = isCrosstalkError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)
  const at = scenarioFrame(err)
  return redact(`${message.replace(/\s*\n\s*/g, ' ')}${at === undefined ? '' : ` (at ${at})`}`)
}

export class RunSteps {
  readonly lifecycle = new Lifecycle<RunStepState>('run steps', 'idle', TRANSITIONS)
  readonly #o: RunStepsOptions
  #data: unknown

  constructor (options: RunStepsOptions) {
    this.#o = options
  }

  /**
   * Runs `before` (if any) and returns what it returned, checked structured-cloneable and with its
   * secret fields registered for masking; undefined without `before` or when the run was
   * interrupted during it. Throws RunSetupError.
   */
  async before (): Promise<unknown> {
    const { scenario, source, timeoutMs, signal } = this.#o
    this.lifecycle.to('before')
    const step = scenario.before
    if (step === undefined) return this.#ready(undefined)
    if (signal?.aborted === true) return this.#cut()
    const { run, close } = createRunContext(this.#o.context)
    let ok = false
    try {
      const data = await withTimeout(() => untilAborted(step(run), signal), timeoutMs,
        () => new RunSetupError(`before of scenario ${source} did not finish within ${timeoutMs} ms (runStepTimeout)`))
      if (data === CUT) return this.#cut()
      try {
        structuredClone(data)
      } catch (err) {
        throw new RunSetupError(`before of scenario ${source} returned data that cannot be structured-cloned to the workers (functions, sockets, class instances with private state cannot): ${describe(err)}`, { cause: err })
      }
      ok = true
      registerRowSecrets(data)
      return this.#ready(data)
    } catch (err) {
      this.lifecycle.tryTo('failed')
      if (err instanceof RunSetupError) throw err
      throw new RunSetupError(`before of scenario ${source} failed: ${describe(err)}`, { cause: err })
    } finally {
      // a failed or overrun step may still have requests in flight: they are cut
      await close(!ok)
    }
  }

  /** Runs `after` when `before` succeeded (or there was none); returns its failure line, if any. Never throws. */
  async after (): Promise<string | undefined> {
    if (!this.lifecycle.tryTo('after')) return undefined
    const { scenario, source, timeoutMs } = this.#o
    const step = scenario.after
    if (step === undefined) {
      this.lifecycle.to('done')
      return undefined
    }
    const { run, close } = createRunContext(this.#o.context)
    let failure: string | undefined
    try {
      await withTimeout(() => step(run, this.#data), timeoutMs, () => new Error(`did not finish within ${timeoutMs} ms (runStepTimeout)`))
    } catch (err) {
      failure = `after of scenario ${source} failed: ${describe(err)}`
    } finally {
      await close(failure !== undefined)
      this.lifecycle.to('done')
    }
    return failure
  }

  #ready (data: unknown): unknown {
    this.#data = data
    this.lifecycle.to('ready')
    return data
  }

  #cut (): undefined {
    this.lifecycle.to('cut')
    return undefined
  }
}

/** `value`, or CUT as soon as `signal` aborts (the step itself goes on unobserved, its client closed). */
async function untilAborted<T> (value: T | Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof CUT> {
  if (signal === undefined) return await value
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      Promise.resolve(value),
      new Promise<typeof CUT>(resolve => {
        onAbort = () => resolve(CUT)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
