// The inspector side of a run: heap readings between GC cycles and a leak verdict, and/or the
// target's CPU profile. Started before the load, finished after it, closed whatever happened.
import { ConfigError } from '../errors.js'
import { inProcessBackend, LeakMonitor, memwatchBackend, remoteBackend, type HeapBackend, type LoadPause } from '../leaks/index.js'
import { METRICS, type MetricsAggregator } from '../metrics/index.js'
import type { ResolvedRunOptions } from '../options/index.js'
import type { LeakReport } from '../result/index.js'
import { writeFileAtomic } from '../shared/index.js'
import type { ResolvedTarget } from '../target/index.js'

export interface InspectionFindings {
  leaks?: LeakReport
  cpuProfile?: string
}

/**
 * How long a quiet reading waits for the iterations in flight to end before it reads anyway (and
 * marks the reading not quiet): long enough for a request at 1000 users on a slow server, short
 * enough that one stuck iteration cannot stall the load for long.
 */
const DRAIN_BOUND_MS = 2000

export class TargetInspection {
  readonly #o: ResolvedRunOptions
  readonly #backend: HeapBackend | undefined
  readonly #monitor: LeakMonitor | undefined

  private constructor (o: ResolvedRunOptions, backend: HeapBackend | undefined, monitor: LeakMonitor | undefined) {
    this.#o = o
    this.#backend = backend
    this.#monitor = monitor
  }

  /** Connects to the target's heap (when leaks or a CPU profile are asked for) and starts reading it. */
  static async start (o: ResolvedRunOptions, target: ResolvedTarget, agg: MetricsAggregator): Promise<TargetInspection> {
    const backend = await heapBackendFor(o, target)
    const l = o.leaks
    const counters = {
      ops: (): number => agg.counter(METRICS.httpReqs) + agg.counter(METRICS.wsMessagesSent),
      iterations: (): number => agg.counter(METRICS.iterations)
    }
    const plan = o.plan
    const monitor = backend !== undefined && l !== null
      ? new LeakMonitor(backend, {
        everyOps: l.everyOps,
        readings: l.readings,
        drainBoundMs: DRAIN_BOUND_MS,
        plan: { durationMs: plan.durationMs, iterations: plan.iterations === null ? null : plan.iterations * plan.maxUsers },
        suspects: l.suspects,
        cpuProfilePath: o.cpuProfile,
        snapshotDir: l.snapshots ? (o.out ?? '.') : null,
        floorBytesPerOp: l.floorBytesPerOp,
        diff: { when: l.diff, plannedLoadMs: o.plan.durationMs },
        onSample: s => agg.setGauge(METRICS.targetHeapUsed, 'target', s.usedBytes, performance.now())
      }, counters)
      : undefined
    const inspection = new TargetInspection(o, backend, monitor)
    try {
      if (monitor !== undefined) await monitor.start()
      else if (backend !== undefined) await backend.startCpuProfile() // a CPU profile without leak detection
    } catch (err) {
      await inspection.close()
      throw err
    }
    return inspection
  }

  /** The load that quiet readings hold, once its cohorts exist. */
  attachLoad (pause: LoadPause): void {
    this.#monitor?.attachLoad(pause)
  }

  /** The start barrier opened at `at`: a time-bound load is not read after its planned end. */
  loadStarted (at: number): void {
    this.#monitor?.loadStarted(at)
  }

  /** Stops reading: the leak verdict (and its slope as a gauge) and where the CPU profile went; `loadMs`: how long the load ran. */
  async finish (agg: MetricsAggregator, loadMs: number): Promise<InspectionFindings> {
    if (this.#monitor !== undefined) {
      const leaks = await this.#monitor.stop(loadMs)
      agg.setGauge(METRICS.targetHeapSlope, 'target', leaks.bytesPerOp, performance.now())
      return { leaks, ...(leaks.cpuProfile !== undefined && { cpuProfile: leaks.cpuProfile }) }
    }
    if (this.#backend !== undefined && this.#o.cpuProfile !== null) {
      await writeFileAtomic(this.#o.cpuProfile, JSON.stringify(await this.#backend.stopCpuProfile()))
      return { cpuProfile: this.#o.cpuProfile }
    }
    return {}
  }

  async close (): Promise<void> {
    await this.#backend?.close().catch(() => {})
  }
}

/** The inspector side of leak detection and CPU profiles, or undefined when neither is asked for. */
async function heapBackendFor (o: ResolvedRunOptions, target: ResolvedTarget): Promise<HeapBackend | undefined> {
  if (o.leaks === null && o.cpuProfile === null) return undefined
  const wanted = o.leaks?.backend
  if (wanted === 'memwatch' || wanted === 'in-process') {
    // a URL target may be served by this very process (an ava test that starts its app): only a
    // server crosstalk started elsewhere (a child fixture, a cmd: target) is surely not
    if (target.fixture?.process === 'child' || target.command !== undefined) throw new ConfigError(`the ${wanted} heap backend reads this process: use it with the in-process fixture or a server started in this process`)
    return wanted === 'memwatch' ? await memwatchBackend() : inProcessBackend()
  }
  if (o.inspectTarget !== undefined) return await remoteBackend(o.inspectTarget)
  if (target.inspectorUrl !== undefined) return await remoteBackend(target.inspectorUrl)
  if (target.fixture?.process === 'in-process') return inProcessBackend()
  throw new ConfigError('no inspector to read the target\'s heap: give --target \'cmd:<command>\' (started with one) or pass --inspect-target host:port')
}
