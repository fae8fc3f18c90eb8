// The main thread's view of one cohort (one Piscina task): submitted -> ready -> settled. It owns
// the cohort's MessagePort, forwards what arrives to the run's totals, and accounts the task's
// end, whether it returned a result or failed.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Lifecycle, type Transitions } from '../shared/index.js'
import type { CohortTotals } from './cohort-totals.js'
import type { CohortResult, CohortSpec, CohortTask, DirectoryMessage, WorkerMessage } from './messages.js'

export type CohortTrackerState = 'submitted' | 'ready' | 'settled'

/** How long a settled cohort's last ticks may trail its result. */
const BYE_WAIT_MS = 2000

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
  #onBye!: () => void
  /** the worker's last message arrived: every tick it sent has been read */
  readonly #bye = new Promise<void>(resolve => { this.#onBye = resolve })

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

  /** Accounts the cohort's result once its last ticks are in (bounded: a worker may never say goodbye). */
  async settle (res: CohortResult): Promise<void> {
    await this.#lastTicks()
    this.#totals.settled(this.source, res, this.spec.scenario)
    this.#end()
  }

  fail (err: Error, aborted: boolean): void {
    const lostTo = this.lostTo
    this.#totals.failed(this.source, this.spec, lostTo === undefined ? err : new Error(lostTo), { aborted: aborted && lostTo === undefined, wasReady: this.lifecycle.is('ready') })
    this.#end()
  }

  async #lastTicks (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#bye, new Promise<void>(resolve => { timer = setTimeout(resolve, BYE_WAIT_MS) })])
    clearTimeout(timer)
  }

  #onMessage (m: WorkerMessage): void {
    if (m.type === 'tick') {
      this.#totals.tick(this.source, m, this.spec.scenario)
      return
    }
    if (m.type === 'bye') {
      this.#onBye()
      return
    }
    this.#totals.ready(m, this.spec.scenario)
    this.activeAtStart = m.activeAtStart
    this.lifecycle.tryTo('ready')
    this.#notifyReady()
    if (this.late) this.#port.postMessage(this.#hooks.directoryMessage())
  }

  #end (): void {
    this.lifecycle.to('settled')
    this.#notifyReady()
    this.#port.close()
  }

  #notifyReady (): void {
    if (this.#readyNotified) return
    this.#readyNotified = true
    this.#hooks.onReady(this)
  }
}
