// Isolation checking for one cohort: mints canaries, scans everything its users receive, and
// records violations. One per cohort, so counters need no cross-task coordination.
import { METRICS, taggedKey, type MetricsRecorder } from '../metrics/index.js'
import { mintCanary } from './canary.js'
import type { Directory } from './directory.js'
import { excerptAround } from '../shared/index.js'
import { CanaryScanner, type ForeignCanary } from './scanner.js'
import type { StaleRead, Violation } from '../result/index.js'
import { ViolationLog, type ViolationDelta } from './violations.js'

export interface CohortIsolationOptions {
  secret: string
  runId: string
  /** scan responses and frames for foreign canaries (off: only probes and read-your-writes) */
  scan: boolean
  threadId: number
  recorder: MetricsRecorder
  /** the run's shared control block (burst barriers) */
  control: Int32Array
  barrierTimeoutMs: number
}

export interface Receiver { id: number, name: string }

export class CohortIsolation {
  readonly scanner: CanaryScanner
  readonly log = new ViolationLog()
  readonly control: Int32Array
  readonly barrierTimeoutMs: number
  readonly recorder: MetricsRecorder
  readonly scanEnabled: boolean
  /** set when the main thread has shared who owns what (after setup) */
  directory: Directory | undefined
  readonly #o: CohortIsolationOptions
  #forgedSeen = 0

  constructor (o: CohortIsolationOptions) {
    this.#o = o
    this.scanner = new CanaryScanner(o.secret, o.runId)
    this.control = o.control
    this.barrierTimeoutMs = o.barrierTimeoutMs
    this.recorder = o.recorder
    this.scanEnabled = o.scan
  }

  canary (owner: number, label: string): string {
    return mintCanary(this.#o.secret, this.#o.runId, owner, label)
  }

  /** Scans an HTTP response's headers and body. */
  inspectResponse (user: Receiver, method: string, path: string, rawHeaders: Buffer[], body: Buffer): void {
    if (!this.scanEnabled) return
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const found = this.scanner.scan(rawHeaders[i + 1]!, user.id)
      if (found !== undefined) {
        const header = rawHeaders[i]!.toString('latin1').toLowerCase()
        this.#report(user, found, 'foreign-data', rawHeaders[i + 1]!, { method, path, part: 'header', header })
      }
    }
    const found = this.scanner.scan(body, user.id)
    if (found !== undefined) this.#report(user, found, 'foreign-data', body, { method, path, part: 'body' })
  }

  /** Scans one WebSocket frame or Socket.IO event payload. */
  inspectFrame (user: Receiver, channel: string, data: Buffer | string): void {
    if (!this.scanEnabled) return
    const found = this.scanner.scan(data, user.id)
    if (found !== undefined) this.#report(user, found, 'foreign-event', data, { channel, part: 'frame' })
  }

  violation (v: Omit<Violation, 'at' | 'thread'>): void {
    this.log.add({ ...v, at: new Date().toISOString(), thread: this.#o.threadId })
    this.recorder.count(METRICS.isolationViolations)
    this.recorder.count(taggedKey(METRICS.isolationViolations, 'kind', v.kind))
  }

  /** A `probe.asOther` answer that carried only the credential owner's data: not a violation. */
  callerData (route: string): void {
    this.log.callerData(route)
    this.recorder.count(taggedKey(METRICS.isolationProbes, 'result', 'caller-data'))
  }

  /** A read that showed the reader's own older write: not isolation; beyond its budget, a failed check. */
  staleRead (s: Omit<StaleRead, 'at'>): void {
    this.log.staleRead({ ...s, at: new Date().toISOString() })
    this.recorder.count(METRICS.isolationStaleReads)
    if (!s.withinBudget) this.recorder.count(taggedKey(METRICS.isolationStaleReads, 'budget', 'exceeded'))
  }

  drain (): ViolationDelta {
    const forged = this.scanner.forged
    this.log.forged(forged - this.#forgedSeen)
    this.#forgedSeen = forged
    return this.log.drain()
  }

  #report (user: Receiver, found: ForeignCanary[], kind: 'foreign-data' | 'foreign-event', data: Buffer | string, where: Violation['where']): void {
    // one violation per foreign owner in this body/frame: a list of 50 leaked notes is one leak per victim
    const owners = new Set<number>()
    for (const c of found) {
      if (owners.has(c.owner)) continue
      owners.add(c.owner)
      this.violation({
        kind,
        user: user.name,
        owner: `user-${c.owner}`,
        where,
        excerpt: excerptAround(typeof data === 'string' ? data : data.toString('latin1'), c.index, c.text.length)
      })
    }
  }
}
