// When the heap diff's points are taken during a leak run, and what they cost. Snapshots
// (remote or in-process inspector): the baseline right after the 2nd heap reading (the 1st is
// taken before the load warms the server up), the target at the first reading past 70% of the
// planned load (a run without a planned duration retakes it each time the operation count
// doubles, so the last one lies between half-way and the end), the final one after the load. With
// 'auto' the baseline is taken in every leak run, since a past heap cannot be snapshotted later
// (early, on a small heap: a short pause), the target only while the readings so far do not say
// no-leak, the final one and the analysis only when the verdict is a leak; files are deleted. Each snapshot pauses the target while V8 writes it (measured on
// a busy 2-core machine: ~50 s for a 100 MB heap of 1.4 M objects, 1-2 s for a 5 MB one), so
// a clean run pays one short pause and a leak three: `leaks.diff: 'off'` for servers that must
// not pause.
// memwatch (in-process, main thread): a HeapDiff from the baseline to the end of the run.
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { freemem, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HeapDiffGroup, HeapDiffReport } from '../result/index.js'
import type { ConstructorDelta, HeapBackend } from './heap-backend.js'
import { diffSnapshots } from './heap-diff.js'
import { readSnapshot, readSnapshotIds } from './heap-snapshot.js'

export type DiffWhen = 'auto' | 'always' | 'off'

export interface HeapDiffOptions {
  when: DiffWhen
  /** the planned length of the load phase (null: a run of iterations) */
  plannedLoadMs: number | null
  /** groups reported / how many of them get a retainer path */
  topGroups?: number
  topPaths?: number
  /** free memory (default os.freemem), checked against the analysis's cost before each snapshot */
  freeBytes?: () => number
  /** 'auto': whether the readings so far look like a leak (the target is only taken then) */
  looksLikeLeak?: () => boolean
}

/**
 * What analysing the snapshots may cost, as a multiple of the used heap (the budget check's
 * estimate). A JSON.parse-based analysis costs ~20x; heap-snapshot.ts's typed arrays peaked at
 * 484 MB of RSS for a 100 MB heap (4.8x, measured), so 8x leaves room for string-heavy heaps.
 */
export const ANALYSIS_COST_FACTOR = 8
const TARGET_AT = 0.7
const MB = 2 ** 20

type DiffState = 'waiting' | 'baseline' | 'target' | 'skipped' | 'done'

type MemwatchDiff = { end: () => ConstructorDelta[] }
type WithHeapDiff = HeapBackend & { heapDiff?: () => MemwatchDiff }

export class HeapDiffRecorder {
  state: DiffState = 'waiting'
  readonly #backend: WithHeapDiff
  readonly #o: Required<HeapDiffOptions>
  #note: string | undefined
  #dir: string | undefined
  #baselineIds: Uint32Array | undefined
  #baselineOps = 0
  #targetOps = 0
  #pauseMs = 0
  #memwatch: MemwatchDiff | undefined

  constructor (backend: HeapBackend, options: HeapDiffOptions) {
    this.#backend = backend
    this.#o = { topGroups: 20, topPaths: 20, freeBytes: freemem, looksLikeLeak: () => true, ...options }
  }

  get backend (): HeapDiffReport['backend'] {
    return this.#backend.kind === 'memwatch' && this.#backend.heapDiff !== undefined ? 'memwatch' : 'snapshots'
  }

  /** After heap reading number `index` (0-based), at `elapsedMs` into the run. */
  async afterReading (index: number, ops: number, elapsedMs: number, usedBytes: number): Promise<void> {
    if (this.#o.when === 'off') return
    try {
      await this.#advance(index, ops, elapsedMs, usedBytes)
    } catch (err) {
      // a failed snapshot costs the diff, never the run's readings
      this.state = 'skipped'
      this.#note = `heap diff skipped: a snapshot failed (${(err as Error).message})`
    }
  }

  async #advance (index: number, ops: number, elapsedMs: number, usedBytes: number): Promise<void> {
    if (this.state === 'waiting' && index >= 1) await this.#baseline(ops, usedBytes)
    else if ((this.state === 'baseline' || this.state === 'target') && this.backend === 'snapshots') {
      const from = this.state === 'baseline' ? this.#baselineOps : this.#targetOps
      const due = this.#o.plannedLoadMs !== null
        ? this.state === 'baseline' && elapsedMs >= TARGET_AT * this.#o.plannedLoadMs
        : ops >= 2 * Math.max(1, from)
      // 'auto' spares a clean run the pause: no target while the trend says no-leak (asked again
      // at the next readings, so a leak that shows late still gets one)
      if (due && (this.#o.when === 'always' || this.#o.looksLikeLeak())) await this.#target(ops, usedBytes)
    }
  }

  /** After the load: the diff, or undefined when 'auto' and no leak was flagged. Always cleans up. */
  async finish (leak: boolean, ops: number, usedBytes: number): Promise<HeapDiffReport | undefined> {
    try {
      if (this.#o.when === 'off' || (this.#o.when === 'auto' && !leak)) return undefined
      const report = (groups: HeapDiffGroup[], extra: Partial<HeapDiffReport> = {}): HeapDiffReport => ({
        backend: this.backend, groups, ...(this.#note !== undefined && { note: this.#note }), ...extra
      })
      if (this.state === 'skipped') return report([])
      if (this.#memwatch !== undefined) return report(memwatchGroups(this.#memwatch.end(), ops - this.#baselineOps, this.#o.topGroups), { ops: ops - this.#baselineOps })
      if (this.state !== 'target') return report([], { note: 'no heap diff: it needs a baseline snapshot after the 2nd reading and a target past 70% of the load (with --heap-diff auto, only while the readings look like a leak): too few readings, or the trend showed late' })
      if (!this.#affordable(usedBytes)) return report([])
      const final = await this.#snap('final')
      const started = performance.now()
      const finalIds = await readSnapshotIds(final)
      await rm(final)
      const target = await readSnapshot(join(this.#dir!, 'target.heapsnapshot'))
      const groups = diffSnapshots({ baselineIds: this.#baselineIds!, target, finalIds, ops: this.#targetOps - this.#baselineOps, topGroups: this.#o.topGroups, topPaths: this.#o.topPaths })
      this.state = 'done'
      return report(groups, { ops: this.#targetOps - this.#baselineOps, pauseMs: Math.round(this.#pauseMs), analysisMs: Math.round(performance.now() - started) })
    } catch (err) {
      return { backend: this.backend, groups: [], note: `heap diff failed: ${(err as Error).message}` }
    } finally {
      this.#memwatch = undefined // an unended HeapDiff frees its snapshot when collected
      if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true })
    }
  }

  async #baseline (ops: number, usedBytes: number): Promise<void> {
    this.#baselineOps = ops
    if (this.backend === 'memwatch') {
      this.#memwatch = this.#backend.heapDiff!()
      this.state = 'baseline'
      return
    }
    if (!this.#affordable(usedBytes)) return
    this.#dir = await mkdtemp(join(tmpdir(), 'crosstalk-heapdiff-'))
    const path = await this.#snap('baseline')
    this.#baselineIds = await readSnapshotIds(path)
    await rm(path)
    this.state = 'baseline'
  }

  async #target (ops: number, usedBytes: number): Promise<void> {
    if (!this.#affordable(usedBytes)) return
    await this.#snap('target') // replaces an earlier target
    this.#targetOps = ops
    this.state = 'target'
  }

  /** Skip, with a note, when the machine cannot afford the analysis (ANALYSIS_COST_FACTOR x the heap). */
  #affordable (usedBytes: number): boolean {
    const need = usedBytes * ANALYSIS_COST_FACTOR
    const free = this.#o.freeBytes()
    if (need <= free) return true
    this.state = 'skipped'
    this.#note = `heap diff skipped: analysing a ${(usedBytes / MB).toFixed(0)} MB heap needs ~${(need / MB).toFixed(0)} MB (${ANALYSIS_COST_FACTOR}x) and ${(free / MB).toFixed(0)} MB are free`
    return false
  }

  /** A snapshot streamed to disk chunk by chunk (synchronous writes: an in-process snapshot sends every chunk before its call returns). */
  async #snap (name: string): Promise<string> {
    const path = join(this.#dir!, `${name}.heapsnapshot`)
    const fd = openSync(path, 'w')
    const started = performance.now()
    try {
      await this.#backend.heapSnapshot(chunk => { writeSync(fd, chunk) })
    } finally {
      closeSync(fd)
      this.#pauseMs += performance.now() - started
    }
    return path
  }
}

/** memwatch's per-constructor changes: what grew, largest first. */
function memwatchGroups (deltas: ConstructorDelta[], ops: number, top: number): HeapDiffGroup[] {
  return deltas.filter(d => d.bytesDelta > 0)
    .sort((a, b) => b.bytesDelta - a.bytesDelta)
    .slice(0, top)
    .map(d => ({ name: d.name, count: d.countDelta, bytes: d.bytesDelta, perKOps: ops > 0 ? Math.round(d.bytesDelta * 1000 / ops) : 0 }))
}
