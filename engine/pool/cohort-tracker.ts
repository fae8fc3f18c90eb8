// The main thread's view of one cohort (one Piscina task): submitted -> ready -> settled. It owns
// the cohort's MessagePort, forwards what arrives to the run's totals, and accounts the task's
// end, whether it returned a result or failed.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Lifecycle, type Transitions } from '../shared/index.js'
import type { CohortTotals } from './cohort-totals.js'
import type { CohortResult, CohortSpec, CohortTask, DirectoryMessage, WorkerMessage } from './messages.js'

export type CohortTrackerState = 'submitted' | 'ready' | 'settled'

const TRANSITIONS: Transitions<CohortTrackerState> = {
  submitted: ['ready', 'settled'],
  ready: ['settled'],
  settled: []
}

export interface CohortTrackerHooks {
  /** the cohort is set up (or settled without ever being ready) */
  onReady: (tracker: CohortTracker) => void
  /** the directory as it stands and the start's clock, for a cohort that joins a running load */
  directoryMessage: () => DirectoryMessage
}

export class CohortTracker {
  readonly spec: CohortSpec
  /** submitted after the start barrier opened */
  readonly late: boolean
  readonly source: string
  readonly lifecycle: Lifecycle<CohortTrackerState>
  /** set-up users active the moment the load phase starts (burst barrier parties) */
  activeAtStart = 0
  /** why the main thread ended the cohort's thread (the watchdog): its users are lost, whatever else stopped */
  lostTo: string | undefined
  readonly #port: MessagePort
  readonly #workerPort: MessagePort
  readonly #totals: CohortTotals
  readonly #hooks: CohortTrackerHooks
  #readyNotified = false

  constructor (spec: CohortSpec, late: boolean, totals: CohortTotals, hooks: CohortTrackerHooks) {
    this.spec = spec
    this.late = late
    this.source = `cohort-${spec.id}`
    this.lifecycle = new Lifecycle<CohortTrackerState>(this.source, 'submitted', TRANSITIONS)
    this.#totals = totals
    this.#hooks = hooks
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    this.#workerPort = port2
    port1.on('message', (m: WorkerMessage) => this.#onMessage(m))
  }

  /** The Piscina task for this cohort; its port is transferred to the worker. */
  task (common: Omit<CohortTask, 'cohort' | 'late' | 'port'>): { task: CohortTask, transferList: [MessagePort] } {
    return { task: { ...common, cohort: this.spec, late: this.late, port: this.#workerPort }, transferList: [this.#workerPort] }
  }

  get settled (): boolean {
    return this.lifecycle.is('settled')
  }

  send (m: DirectoryMessage): void {
    if (!this.settled) this.#port.postMessage(m)
  }

  settle (res: CohortResult): void {
    this.#totals.settled(this.source, res)
    this.#end()
  }

  fail (err: Error, aborted: boolean): void {
    const lostTo = this.lostTo
    this.#totals.failed(this.source, this.spec, lostTo === undefined ? err : new Error(lostTo), { aborted: aborted && lostTo === undefined, wasReady: this.lifecycle.is('ready') })
    this.#end()
  }

  #onMessage (m: WorkerMessage): void {
    if (m.type === 'tick') {
      this.#totals.tick(this.source, m)
      return
    }
    this.#totals.ready(m)
    this.activeAtStart = m.activeAtStart
    this.lifecycle.tryTo('ready')
    this.#notifyReady()
    if (this.late) this.#port.postMessage(this.#hooks.directoryMessage())
  }

  #end (): void {
    this.lifecycle.to('settled')
    this.#notifyReady()
    // ticks posted just before the task ended are still queued on the port: drain them first
    setImmediate(() => this.#port.close())
  }

  #notifyReady (): void {
    if (this.#readyNotified) return
    this.#readyNotified = true
    this.#hooks.onReady(this)
  }
}
