// Heap readings between GC cycles during a run: at the cadence (cadence.ts: every planned
// duration / 30, or every `everyOps` operations) the target is fully collected and its used heap
// read. Quiet readings (the default) hold new iterations, wait for those in flight to end
// (bounded), collect, read and release: a reading under full
// load counts the live state of every request in flight (megabytes at 1000 users), which is
// noise to the trend. The verdict uses the steady window only (trend.ts).
// Suspects, only when a leak is flagged: allocation sites whose live bytes grew in both halves
// of the steady window (sampling heap profiles at its start, middle and end).
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { freemem } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import type { HeapSample, LeakReadings, LeakReport, LeakSuspect } from '../result/index.js'
import { writeFileAtomic } from '../shared/index.js'
import { ReadingCadence, type PlannedLoad } from './cadence.js'
import { leakFigures } from './figures.js'
import { analyzeHeapTrend } from './trend.js'
import type { AllocationSites, HeapBackend } from './heap-backend.js'
import { HeapDiffRecorder, type HeapDiffOptions } from './diff-recorder.js'

export type ReadingMode = 'quiet' | 'under-load'

export interface LeakMonitorOptions {
  /** a reading every this many operations; undefined: from the plan (cadence.ts) */
  everyOps: number | undefined
  /** hold the load for each reading, or read under load (servers that must not pause) */
  readings: ReadingMode
  /** how long a quiet reading waits for the iterations in flight before reading anyway */
  drainBoundMs: number
  /** the planned load, for the cadence */
  plan: PlannedLoad
  suspects: boolean
  /** write the target's CPU profile of the load phase here (null: none) */
  cpuProfilePath: string | null
  /** directory for heap snapshots of a flagged leak (null: none) */
  snapshotDir: string | null
  floorBytesPerOp: number
  /** each reading as it is taken (for the target.heap.used gauge) */
  onSample?: (sample: HeapSample) => void
  /** heap diff between GC cycles: snapshots (or memwatch) at readings, see diff-recorder.ts */
  diff?: HeapDiffOptions
}

/** What the monitor counts readings by. */
export interface LoadCounters {
  /** completed operations (requests + WebSocket messages sent) */
  ops: () => number
  /** completed iterations */
  iterations: () => number
}

/** How the load is held for a quiet reading (the pool's LoadHold). */
export interface LoadPause {
  /** holds new iterations, waits at most boundMs for those in flight; how many were left */
  hold: (boundMs: number) => Promise<{ inFlight: number, drainMs: number }>
  release: () => void
}

const POLL_MS = 50

export class LeakMonitor {
  readonly #backend: HeapBackend
  readonly #o: LeakMonitorOptions
  readonly #count: LoadCounters
  readonly #cadence: ReadingCadence
  readonly #origin = performance.now()
  readonly #samples: HeapSample[] = []
  readonly #sites: Array<AllocationSites | undefined> = []
  #pause: LoadPause | undefined
  /** when a time-bound load ends: after it, users tear down (log out...), which is not the load's heap */
  #loadEndsAt = Infinity
  #loop: Promise<void> | undefined
  #stopped = false
  #failure: string | undefined
  readonly #diff: HeapDiffRecorder | undefined

  constructor (backend: HeapBackend, options: LeakMonitorOptions, counters: LoadCounters) {
    this.#backend = backend
    this.#o = options
    this.#count = counters
    this.#cadence = new ReadingCadence(options.everyOps, options.plan)
    const looksLikeLeak = (): boolean => analyzeHeapTrend(this.#samples, { floorBytesPerOp: options.floorBytesPerOp }).verdict !== 'no-leak'
    this.#diff = options.diff === undefined ? undefined : new HeapDiffRecorder(backend, { looksLikeLeak, ...options.diff })
  }

  /** The load to hold for quiet readings (without one, readings are taken under load). */
  attachLoad (pause: LoadPause): void {
    this.#pause = pause
  }

  /** The load started at `at` (performance.now()): a time-bound load is not read after its planned end. */
  loadStarted (at: number): void {
    if (this.#o.plan.durationMs !== null) this.#loadEndsAt = at + this.#o.plan.durationMs
  }

  /** Baseline reading, profilers on, then readings at the cadence until stop(). */
  async start (): Promise<void> {
    if (this.#o.suspects) await this.#backend.startAllocationSampling()
    if (this.#o.cpuProfilePath !== null) await this.#backend.startCpuProfile()
    await this.#sample(false) // before the load: nothing in flight to wait for
    this.#loop = this.#run()
  }

  /** The last reading, the verdict and its figures; `loadMs` is how long the load ran. */
  async stop (loadMs: number): Promise<LeakReport> {
    this.#stopped = true
    await this.#loop
    const { everyOps, everyMs } = this.#cadence.decide(performance.now(), this.#count.ops(), this.#count.iterations(), true)!
    // a last reading only if operations moved on: readings after the load ended would add a
    // flat tail that is not the server's behaviour under load. Not after a time-bound load: by
    // now every user tore down, and a teardown that frees per-user state (a logout) would read
    // as the heap dropping at the end of the load
    const lastOps = this.#samples.at(-1)?.ops ?? 0
    if (this.#failure === undefined && this.#o.plan.durationMs === null && this.#count.ops() - lastOps >= everyOps / 2) {
      try { await this.#sample(false) } catch (err) { this.#failure = (err as Error).message }
    }
    const cpuProfile = await this.#stopCpuProfile()
    const trend = analyzeHeapTrend(this.#samples, { floorBytesPerOp: this.#o.floorBytesPerOp })
    const { window, ...rest } = trend
    const report: LeakReport = {
      ...rest,
      backend: this.#backend.kind,
      ...(this.#backend.note !== undefined && { note: this.#backend.note }),
      everyOps,
      everyMs,
      readings: this.#readings(loadMs),
      figures: leakFigures(this.#samples, trend),
      samples: this.#samples,
      suspects: trend.verdict === 'leak' ? this.#suspects(window) : [],
      ...(cpuProfile !== undefined && { cpuProfile })
    }
    if (this.#failure !== undefined) {
      report.reason = `${report.reason}; sampling stopped early: ${this.#failure}`
    }
    const diff = await this.#diff?.finish(trend.verdict === 'leak', this.#count.ops(), this.#samples.at(-1)?.usedBytes ?? 0)
    if (diff !== undefined) report.diff = diff
    if (trend.verdict === 'leak' && this.#o.snapshotDir !== null) report.snapshots = await this.#snapshot(this.#o.snapshotDir)
    await this.#backend.close()
    return report
  }

  async #stopCpuProfile (): Promise<string | undefined> {
    if (this.#o.cpuProfilePath === null) return undefined
    try {
      const profile = await this.#backend.stopCpuProfile()
      await writeFileAtomic(this.#o.cpuProfilePath, JSON.stringify(profile))
      return this.#o.cpuProfilePath
    } catch (err) {
      this.#failure ??= `CPU profile: ${(err as Error).message}`
      return undefined
    }
  }

  #readings (loadMs: number): LeakReadings {
    const held = this.#samples.filter(s => (s.pauseMs ?? 0) > 0)
    const pausedMs = held.reduce((sum, s) => sum + s.pauseMs!, 0)
    const idleMs = held.reduce((sum, s) => sum + Math.max(0, s.pauseMs! - (s.drainMs ?? 0)), 0)
    return {
      mode: this.#o.readings,
      cadence: this.#cadence.rule,
      quiet: this.#samples.filter(s => s.quiet === true).length,
      notQuiet: held.filter(s => s.quiet !== true).length,
      pausedMs: Math.round(pausedMs),
      maxPauseMs: Math.round(Math.max(0, ...held.map(s => s.pauseMs!))),
      loadMs: Math.round(loadMs),
      heldShare: loadMs > 0 ? pausedMs / loadMs : 0,
      idleMs: Math.round(idleMs),
      throughputCost: loadMs > 0 ? idleMs / loadMs : 0,
      ...(this.#backend.collector !== undefined && { collector: this.#backend.collector })
    }
  }

  async #run (): Promise<void> {
    // start to start `everyMs` apart, so the planned number of readings fits the load; and after
    // each one the load runs for at least the shorter of its hold and `everyMs` (a slow drain
    // cannot hold the load all the time)
    let lastStart = performance.now()
    let nextAllowed = 0
    while (!this.#stopped) {
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
      const cadence = this.#cadence.decide(performance.now(), this.#count.ops(), this.#count.iterations())
      const now = performance.now()
      // a reading whose hold (as long as the last one's) would run past the planned end would read teardown
      if (cadence === undefined || this.#stopped || now + (this.#samples.at(-1)?.pauseMs ?? 0) >= this.#loadEndsAt) continue
      const next = (this.#samples.at(-1)?.ops ?? 0) + cadence.everyOps
      if (this.#count.ops() < next || now - lastStart < cadence.everyMs || now < nextAllowed) continue
      lastStart = now
      try {
        await this.#sample(this.#o.readings === 'quiet')
      } catch (err) {
        // a target that went away must not take the run with it: keep what was measured
        this.#failure = (err as Error).message
        return
      }
      nextAllowed = performance.now() + Math.min(this.#samples.at(-1)?.pauseMs ?? 0, cadence.everyMs)
    }
  }

  /** One reading; `hold`: at a quiet point (the load held and drained, bounded), released before the allocation sites. */
  async #sample (hold: boolean): Promise<void> {
    const pause = hold ? this.#pause : undefined
    const heldAt = performance.now()
    let sample: HeapSample
    try {
      const quiet = pause === undefined ? undefined : await pause.hold(this.#o.drainBoundMs)
      const ops = this.#count.ops()
      const reading = await this.#backend.read()
      sample = {
        ops,
        usedBytes: reading.usedBytes,
        at: Math.round(performance.now() - this.#origin),
        beforeGcBytes: reading.beforeBytes,
        // not held: quiet only before and after the load (the baseline and last readings)
        quiet: quiet === undefined ? !hold && this.#o.readings === 'quiet' : quiet.inFlight === 0,
        inFlight: quiet?.inFlight ?? 0,
        pauseMs: 0,
        drainMs: Math.round((quiet?.drainMs ?? 0) * 10) / 10
      }
      // a heap diff's snapshot, when one is due, at the same quiet point (the target stops for it anyway)
      await this.#diff?.afterReading(this.#samples.length, ops, sample.at, reading.usedBytes)
    } finally {
      pause?.release()
    }
    if (pause !== undefined) sample.pauseMs = Math.round((performance.now() - heldAt) * 10) / 10
    else { delete sample.inFlight; delete sample.drainMs }
    this.#samples.push(sample)
    this.#o.onSample?.(sample)
    this.#sites.push(this.#o.suspects ? await this.#backend.allocationSites() : undefined)
  }

  /** Sites that grew in both halves of the steady window, largest growth first. */
  #suspects (window: { from: number, to: number }): LeakSuspect[] {
    const a = this.#sites[window.from]
    const mid = Math.floor((window.from + window.to - 1) / 2)
    const b = this.#sites[mid]
    const c = this.#sites[window.to - 1]
    if (a === undefined || b === undefined || c === undefined) return []
    const ops = this.#samples[window.to - 1]!.ops - this.#samples[window.from]!.ops
    const out: LeakSuspect[] = []
    for (const [site, end] of c) {
      const start = a.get(site) ?? 0
      const middle = b.get(site) ?? 0
      if (middle > start && end > middle) {
        const paren = site.lastIndexOf(' (')
        out.push({ name: site.slice(0, paren), site: site.slice(paren + 2, -1), bytesDelta: end - start, bytesPerOp: ops > 0 ? Math.round((end - start) / ops) : 0 })
      }
    }
    return out.sort((x, y) => y.bytesDelta - x.bytesDelta).slice(0, 10)
  }

  /** One heap snapshot of the leaking target, if the machine can afford it (~20x the heap). */
  async #snapshot (dir: string): Promise<string[]> {
    const heap = this.#samples.at(-1)?.usedBytes ?? 0
    if (heap * 20 > freemem()) return []
    await mkdir(dir, { recursive: true })
    const path = join(dir, `leak-${Date.now()}.heapsnapshot`)
    const file = createWriteStream(path) // chunks go straight to disk: a snapshot can be large
    await this.#backend.heapSnapshot(c => file.write(c))
    file.end()
    await finished(file)
    return [path]
  }
}
