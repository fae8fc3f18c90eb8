// How a run ends, in one fixed order the run controller owns: named steps, run one after another
// once the load settled (or threw). A step that finishes the result (the last heap reading, the
// fixture's counters, the result, the report) is skipped once anything threw; a close (watchers,
// live streams, inspector, target, scenario) always runs, so a failure leaves no child process,
// socket or timer behind. The first error is rethrown after the last close: a run that failed
// writes no report.
import { InternalError } from '../errors.js'
import { Lifecycle, type Transitions } from '../shared/index.js'

/** The order they run in; `close`: runs even after a failure. */
export const SHUTDOWN_STEPS = [
  // the hard deadline, the signal listener, the progress timer, the threshold watch
  { name: 'watchers closed', close: true },
  { name: 'final heap reading', close: false },
  // the scenario's run-wide after: once every user is torn down, also after a failure (it undoes
  // what before created); its failure is a line in the result, not an error
  { name: 'scenario after', close: true },
  { name: 'fixture stats', close: false },
  { name: 'result built', close: false },
  // after the result is built (its series() closes the last seconds), before the report is
  // written (their warnings go in it); a failed run ends them with status 'error'
  { name: 'streams ended', close: true },
  { name: 'report written', close: false },
  { name: 'inspector closed', close: true },
  { name: 'target closed', close: true },
  { name: 'scenario disposed', close: true }
] as const

export type ShutdownStep = typeof SHUTDOWN_STEPS[number]['name']

type State = 'open' | 'running' | 'done'
const TRANSITIONS: Transitions<State> = { open: ['running'], running: ['done'], done: [] }

export class Shutdown {
  readonly lifecycle = new Lifecycle<State>('shutdown', 'open', TRANSITIONS)
  readonly #actions = new Map<ShutdownStep, Array<() => unknown>>()
  readonly #ran: ShutdownStep[] = []
  #failed = false
  #error: unknown

  /**
   * What `step` does in this run, added as the run gets that far: a step nothing was given for
   * is passed over (no inspector was started, the target never resolved).
   */
  on (step: ShutdownStep, action: () => unknown): void {
    if (!this.lifecycle.is('open')) throw new InternalError(`shutdown step '${step}' added after the shutdown started`)
    const actions = this.#actions.get(step) ?? []
    actions.push(action)
    this.#actions.set(step, actions)
  }

  /** Something failed: the first failure is the one rethrown. */
  fail (err: unknown): void {
    if (this.#failed) return
    this.#failed = true
    this.#error = err
  }

  get failed (): boolean {
    return this.#failed
  }

  /** the steps that ran, in order (for tests and diagnostics) */
  get ran (): readonly ShutdownStep[] {
    return this.#ran
  }

  /** Runs the steps in order; rethrows the first failure (before or during) after the closes. */
  async run (): Promise<void> {
    this.lifecycle.to('running')
    for (const { name, close } of SHUTDOWN_STEPS) {
      const actions = this.#actions.get(name)
      if (actions === undefined || (this.#failed && !close)) continue
      this.#ran.push(name)
      for (const action of actions) {
        if (this.#failed && !close) break
        try {
          await action()
        } catch (err) {
          this.fail(err)
        }
      }
    }
    this.lifecycle.to('done')
    if (this.#failed) throw this.#error
  }
}
