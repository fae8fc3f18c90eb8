// Heap readings between GC cycles during a run: every `everyOps` completed operations the target
// is fully collected and its used heap read. The verdict uses the steady window only (trend.ts).
// Suspects, only when a leak is flagged: allocation sites whose live bytes grew in both halves
// of the steady window (sampling heap profiles at its start, middle and end).
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { freemem } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import type { HeapSample, LeakReport, LeakSuspect } from '../result/index.js'
import { writeFileAtomic } from '../shared/index.js'
import { analyzeHeapTrend } from './trend.js'
import type { AllocationSites, HeapBackend } from './heap-backend.js'
import { HeapDiffRecorder, type HeapDiffOptions } from './diff-recorder.js'

export interface LeakMonitorOptions {
  everyOps: number
  /** readings are at least this far apart, whatever the op rate (each one is a full GC) */
  minIntervalMs: number
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


const POLL_MS = 50

export class LeakMonitor {
  readonly #backend: HeapBackend
  readonly #o: LeakMonitorOptions
  readonly #ops: () => number
  readonly #origin = performance.now()
  readonly #samples: HeapSample[] = []
  readonly #sites: Array<AllocationSites | undefined> = []
  #loop: Promise<void> | undefined
  #stopped = false
  #failure: string | undefined
  readonly #diff: HeapDiffRecorder | undefined

  constructor (backend: HeapBackend, options: LeakMonitorOptions, ops: () => number) {
    this.#backend = backend
    this.#o = options
    this.#ops = ops
    const looksLikeLeak = (): boolean => analyzeHeapTrend(this.#samples, { floorBytesPerOp: options.floorBytesPerOp }).verdict !== 'no-leak'
    this.#diff = options.diff === undefined ? undefined : new HeapDiffRecorder(backend, { looksLikeLeak, ...options.diff })
  }

  /** Baseline reading, profilers on, then readings every `everyOps` until stop(). */
  async start (): Promise<void> {
    if (this.#o.suspects) await this.#backend.startAllocationSampling()
    if (this.#o.cpuProfilePath !== null) await this.#backend.startCpuProfile()
    await this.#sample()
    this.#loop = this.#run()
  }

  async stop (): Promise<LeakReport> {
    this.#stopped = true
    await this.#loop
    // a last reading only if operations moved on: readings after the load ended would add a
    // flat tail that is not the server's behaviour under load
    const lastOps = this.#samples.at(-1)?.ops ?? 0
    if (this.#failure === undefined && this.#ops() - lastOps >= this.#o.everyOps / 2) {
      try { await this.#sample() } catch (err) { this.#failure = (err as Error).message }
    }
    let cpuProfile: string | undefined
    if (this.#o.cpuProfilePath !== null) {
      try {
        const profile = await this.#backend.stopCpuProfile()
        await writeFileAtomic(this.#o.cpuProfilePath, JSON.stringify(profile))
        cpuProfile = this.#o.cpuProfilePath
      } catch (err) {
        this.#failure ??= `CPU profile: ${(err as Error).message}`
      }
    }
    const trend = analyzeHeapTrend(this.#samples, { floorBytesPerOp: this.#o.floorBytesPerOp })
    const { window, ...rest } = trend
    const report: LeakReport = {
      ...rest,
      backend: this.#backend.kind,
      ...(this.#backend.note !== undefined && { note: this.#backend.note }),
      everyOps: this.#o.everyOps,
      samples: this.#samples,
      suspects: trend.verdict === 'leak' ? this.#suspects(window) : [],
      ...(cpuProfile !== undefined && { cpuProfile })
    }
    if (this.#failure !== undefined) {
      report.reason = `${report.reason}; sampling stopped early: ${this.#failure}`
    }
    const diff = await this.#diff?.finish(trend.verdict === 'leak', this.#ops(), this.#samples.at(-1)?.usedBytes ?? 0)
    if (diff !== undefined) report.diff = diff
    if (trend.verdict === 'leak' && this.#o.snapshotDir !== null) report.snapshots = await this.#snapshot(this.#o.snapshotDir)
    await this.#backend.close()
    return report
  }

  async #run (): Promise<void> {
    let next = this.#o.everyOps
    let last = performance.now()
    while (!this.#stopped) {
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
      if (this.#ops() < next || performance.now() - last < this.#o.minIntervalMs) continue
      try {
        await this.#sample()
      } catch (err) {
        // a target that went away must not take the run with it: keep what was measured
        this.#failure = (err as Error).message
        return
      }
      last = performance.now()
      next = this.#samples.at(-1)!.ops + this.#o.everyOps
    }
  }

  async #sample (): Promise<void> {
    const ops = this.#ops()
    const reading = await this.#backend.read()
    const sample = { ops, usedBytes: reading.usedBytes, at: Math.round(performance.now() - this.#origin) }
    this.#samples.push(sample)
    this.#o.onSample?.(sample)
    this.#sites.push(this.#o.suspects ? await this.#backend.allocationSites() : undefined)
    await this.#diff?.afterReading(this.#samples.length - 1, ops, sample.at, reading.usedBytes)
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
