// Checks made every second of the load phase: abortOnFail thresholds (run totals, as k6) and,
// for the breakpoint executor, the load at which the target broke (each second on its own: a
// total would lag behind a rising load).
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import { valueAt, type ExecutionPlan } from '../load/index.js'
import type { BreakpointReport, ThresholdResult } from '../result/index.js'
import { evaluateThresholds, runThresholdInput, ThresholdWatch, type Threshold } from '../thresholds/index.js'


/** dropped arrivals above this share of a second's arrivals mean no free user is left: broken */
const DROPPED_SHARE = 0.01

export class LoadWatch {
  readonly #agg: MetricsAggregator
  readonly #plan: ExecutionPlan
  readonly #thresholds: readonly Threshold[]
  readonly #watch: ThresholdWatch
  readonly #stop: () => void
  #timer: NodeJS.Timeout | undefined
  #loadStart = 0
  #origin = 0
  #checked = -1
  /** a plan of several scenarios: each one's metrics, for thresholds on `{scenario:x}` */
  readonly #byScenario: ReadonlyMap<string, MetricsAggregator>
  abortedBy: ThresholdResult | undefined
  breakpoint: BreakpointReport | undefined

  constructor (agg: MetricsAggregator, origin: number, plan: ExecutionPlan, thresholds: readonly Threshold[], stop: () => void, byScenario: ReadonlyMap<string, MetricsAggregator> = new Map()) {
    this.#agg = agg
    this.#byScenario = byScenario
    this.#origin = origin
    this.#plan = plan
    this.#thresholds = thresholds
    this.#watch = new ThresholdWatch(thresholds)
    this.#stop = stop
    if (plan.stopAtFirstFailure) this.breakpoint = { broke: false, atS: null, targetRate: null, achievedRate: null, activeUsers: null, reason: null }
  }

  start (loadStart: number): void {
    this.#loadStart = loadStart
    if (!this.#watch.active && !this.#plan.stopAtFirstFailure) return
    this.#timer = setInterval(() => this.#check(), 250)
  }

  close (): void {
    clearInterval(this.#timer)
  }

  #check (): void {
    const now = performance.now()
    if (this.#watch.active && this.abortedBy === undefined) {
      const tripped = this.#watch.check(runThresholdInput(this.#agg, this.#byScenario, (now - this.#loadStart) / 1000), now - this.#loadStart)
      if (tripped !== undefined) { this.abortedBy = tripped; this.#halt(); return }
    }
    if (this.breakpoint !== undefined && !this.breakpoint.broke) this.#checkBreakpoint(now)
  }

  #checkBreakpoint (now: number): void {
    const view = this.#agg.lastSecondView(now)
    // only whole seconds of load, each once
    if (view === undefined || view.t === this.#checked || view.t * 1000 < this.#loadStart - this.#origin) return
    this.#checked = view.t
    const endS = view.t + 1 - (this.#loadStart - this.#origin) / 1000
    const failed = evaluateThresholds(this.#thresholds, { ...view, loadSeconds: 1 }).find(r => !r.passed && r.value !== null)
    const iterations = view.counter(METRICS.iterations) ?? 0
    const dropped = view.counter(METRICS.droppedIterations) ?? 0
    let reason: string | null = null
    if (failed !== undefined) reason = `${failed.metric} ${failed.expression} failed (${failed.value}) over second ${Math.ceil(endS)} of load`
    else if (dropped > 0 && dropped > DROPPED_SHARE * (iterations + dropped)) reason = `${dropped} of ${iterations + dropped} arrivals dropped in second ${Math.ceil(endS)} of load: no free user left (maxUsers ${this.#plan.maxUsers})`
    if (reason === null) return
    this.breakpoint = {
      broke: true,
      atS: Math.round(endS * 10) / 10,
      targetRate: Math.round(valueAt(this.#plan.profile, (endS - 0.5) * 1000) * 10) / 10,
      achievedRate: iterations,
      activeUsers: view.gauge(METRICS.usersActive)?.value ?? null,
      reason
    }
    this.#halt()
  }

  #halt (): void {
    clearInterval(this.#timer)
    this.#stop()
  }
}
