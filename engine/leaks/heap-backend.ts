// Where heap readings come from. Remote (a process listening for the inspector on 127.0.0.1)
// and in-process (node:inspector on the thread that hosts the server) speak the same DevTools
// protocol; memwatch is an optional main-thread-only extra for constructor-level heap diffs.
import { isMainThread } from 'node:worker_threads'
import { Session } from 'node:inspector/promises'
import { DevToolsClient } from './devtools-client.js'

export type HeapBackendKind = 'remote' | 'in-process' | 'memwatch'

export interface HeapReading {
  /** heapUsed + external (array buffers included) after a full GC, bytes */
  usedBytes: number
  heapUsed: number
  external: number
  /** heapUsed + external just before that GC: what it recovered is beforeBytes - usedBytes */
  beforeBytes: number
}

/** live sampled bytes per allocation site, `function (file:line)` -> bytes */
export type AllocationSites = Map<string, number>

export interface HeapBackend {
  readonly kind: HeapBackendKind
  /** why a requested backend was replaced, if it was */
  note?: string
  /** reads the target's memory, forces a full GC, reads it again */
  read (): Promise<HeapReading>
  /** how read() collects, once it has: the target's gc() or HeapProfiler.collectGarbage */
  readonly collector: 'gc' | 'inspector' | undefined
  startAllocationSampling (): Promise<void>
  /** live sampled bytes per site, right after read() (whose full GC dropped the dead samples) */
  allocationSites (): Promise<AllocationSites>
  startCpuProfile (): Promise<void>
  stopCpuProfile (): Promise<unknown>
  /** streams a heap snapshot to `write`, chunk by chunk (the target is paused meanwhile) */
  heapSnapshot (write: (chunk: string) => void): Promise<void>
  close (): Promise<void>
}

type Post = (method: string, params?: Record<string, unknown>) => Promise<unknown>

interface ProfileNode {
  callFrame: { functionName: string, url: string, lineNumber: number }
  selfSize: number
  children?: ProfileNode[]
}

const SAMPLING_INTERVAL_BYTES = 8192

/**
 * The target's own `gc()`, obtained without --expose-gc on its command line (the way
 * jest-leak-detector does it): the flag is set for one new context, that context's `gc` taken,
 * and the flag cleared again so the application's own contexts never see it. It is one full
 * mark-compact. It evaluates to a string saying why when it cannot. HeapProfiler.collectGarbage,
 * the fallback (Node < 20.16, 21 and 22.0-22.2 have no process.getBuiltinModule), is a
 * memory-reducing collection of several rounds: twice as long, and the fixture served 5,709
 * requests/s under it against 9,058 with gc() (benchmarks/RESULTS.md).
 */
const FIND_GC = `(() => {
  // started with --expose-gc: its flags stay as they are (V8's own gc, not an application's function of that name)
  if (typeof globalThis.gc === 'function' && /\\[native code\\]/.test(Function.prototype.toString.call(globalThis.gc))) return globalThis.gc
  const builtin = typeof process === 'object' && process !== null ? process.getBuiltinModule : undefined
  if (typeof builtin !== 'function') return 'the target has no process.getBuiltinModule (Node < 20.16, 21, 22.0-22.2)'
  const v8 = builtin('v8')
  v8.setFlagsFromString('--expose-gc')
  try { return builtin('vm').runInNewContext('gc') } finally { v8.setFlagsFromString('--no-expose-gc') }
})()`
/** called on the gc function: heap used and external before and after it */
const READ_AROUND_GC = `function () {
  const before = process.memoryUsage()
  this()
  const after = process.memoryUsage()
  return [before.heapUsed, before.external, after.heapUsed, after.external]
}`

function flattenSites (head: ProfileNode): AllocationSites {
  const sites: AllocationSites = new Map()
  // native frames (join, concat, V8 API...) are charged to the nearest JavaScript caller: the
  // function that asked for the memory is the useful suspect, not Array.prototype.join
  const stack: Array<[ProfileNode, string | undefined]> = [[head, undefined]]
  while (stack.length > 0) {
    const [n, jsCaller] = stack.pop()!
    const f = n.callFrame
    const own = f.url === '' ? undefined : `${f.functionName === '' ? '(anonymous)' : f.functionName} (${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1})`
    const key = own ?? jsCaller ?? `${f.functionName === '' ? '(native)' : f.functionName} (native)`
    if (n.selfSize > 0) sites.set(key, (sites.get(key) ?? 0) + n.selfSize)
    for (const c of n.children ?? []) stack.push([c, own ?? jsCaller])
  }
  return sites
}

class ProtocolHeapBackend implements HeapBackend {
  readonly kind: HeapBackendKind
  note?: string
  readonly #post: Post
  readonly #memory: () => Promise<{ heapUsed: number, external: number }>
  readonly #onChunk: (listener: (chunk: string) => void) => () => void
  readonly #close: () => Promise<void>
  /** the target's gc function (undefined: not looked for yet, null: not available) */
  #gc: string | null | undefined

  constructor (kind: HeapBackendKind, post: Post, memory: () => Promise<{ heapUsed: number, external: number }>, onChunk: (listener: (chunk: string) => void) => () => void, close: () => Promise<void>) {
    this.kind = kind
    this.#post = post
    this.#memory = memory
    this.#onChunk = onChunk
    this.#close = close
  }

  get collector (): 'gc' | 'inspector' | undefined {
    return this.#gc === undefined ? undefined : this.#gc === null ? 'inspector' : 'gc'
  }

  async read (): Promise<HeapReading> {
    if (this.#gc === undefined) this.#gc = await this.#findGc()
    if (this.#gc !== null) {
      try {
        // one round trip: memory before, a full mark-compact, memory after
        const { result, exceptionDetails } = await this.#post('Runtime.callFunctionOn', { objectId: this.#gc, functionDeclaration: READ_AROUND_GC, returnByValue: true }) as { result: { value?: unknown }, exceptionDetails?: { text: string } }
        const v = result.value
        if (exceptionDetails !== undefined || !Array.isArray(v) || v.length !== 4) throw new Error(exceptionDetails?.text ?? 'no reading returned')
        const [beforeUsed, beforeExternal, heapUsed, external] = v as [number, number, number, number]
        return { usedBytes: heapUsed + external, heapUsed, external, beforeBytes: beforeUsed + beforeExternal }
      } catch (err) {
        // the borrowed gc went away (a stale object id): the inspector's collection from here on
        this.#gc = null
        this.note = `the target's gc() stopped answering (${(err as Error).message}); HeapProfiler.collectGarbage from then on`
      }
    }
    const before = await this.#memory()
    await this.#post('HeapProfiler.collectGarbage')
    const m = await this.#memory()
    return { usedBytes: m.heapUsed + m.external, heapUsed: m.heapUsed, external: m.external, beforeBytes: before.heapUsed + before.external }
  }

  /** The target's `gc` function (a remote object id), or null (and why, in `note`) where it cannot be had. */
  async #findGc (): Promise<string | null> {
    let why: string
    try {
      const { result, exceptionDetails } = await this.#post('Runtime.evaluate', { expression: FIND_GC, objectGroup: 'crosstalk-gc', returnByValue: false }) as { result: { type: string, value?: unknown, objectId?: string }, exceptionDetails?: { text: string } }
      if (result.type === 'function' && result.objectId !== undefined) return result.objectId
      why = exceptionDetails?.text ?? (typeof result.value === 'string' ? result.value : 'no gc function')
    } catch (err) {
      why = (err as Error).message
    }
    this.note = `collected by HeapProfiler.collectGarbage: ${why}`
    return null
  }

  async startAllocationSampling (): Promise<void> {
    await this.#post('HeapProfiler.enable')
    await this.#post('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL_BYTES })
  }

  /** Live sampled bytes per site; call right after read(), whose full GC dropped the dead samples. */
  async allocationSites (): Promise<AllocationSites> {
    const { profile } = await this.#post('HeapProfiler.getSamplingProfile') as { profile: { head: ProfileNode } }
    return flattenSites(profile.head)
  }

  async startCpuProfile (): Promise<void> {
    await this.#post('Profiler.enable')
    await this.#post('Profiler.start')
  }

  async stopCpuProfile (): Promise<unknown> {
    const { profile } = await this.#post('Profiler.stop') as { profile: unknown }
    return profile
  }

  async heapSnapshot (write: (chunk: string) => void): Promise<void> {
    const off = this.#onChunk(write)
    try {
      await this.#post('HeapProfiler.takeHeapSnapshot', { reportProgress: false })
    } finally {
      off()
    }
  }

  close (): Promise<void> {
    return this.#close()
  }
}

/** The target listens for the inspector on 127.0.0.1 (`node --inspect=127.0.0.1:0`). */
export async function remoteBackend (target: string): Promise<HeapBackend> {
  const client = await DevToolsClient.connect(target)
  const post: Post = (method, params) => client.send(method, params, 120_000)
  return new ProtocolHeapBackend('remote', post, async () => {
    const { result } = await post('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true }) as { result: { value: string } }
    return JSON.parse(result.value) as { heapUsed: number, external: number }
  }, (listener) => client.on('HeapProfiler.addHeapSnapshotChunk', p => listener((p as { chunk: string }).chunk)), () => Promise.resolve(client.close()))
}

/** The server runs on this thread (an ava test that starts its server in the main thread). */
export function inProcessBackend (): HeapBackend {
  const session = new Session()
  session.connect()
  const post: Post = (method, params) => session.post(method, params)
  return new ProtocolHeapBackend('in-process', post, () => Promise.resolve(process.memoryUsage()), (listener) => {
    const handler = (m: { params: { chunk: string } }): void => listener(m.params.chunk)
    session.on('HeapProfiler.addHeapSnapshotChunk', handler)
    return () => session.off('HeapProfiler.addHeapSnapshotChunk', handler)
  }, () => Promise.resolve(session.disconnect()))
}

interface MemwatchModule {
  gc?: () => void
  HeapDiff: new () => { end: () => { change: { details: Array<{ what: string, size_bytes: number, '+': number, '-': number }> } } }
}

export interface ConstructorDelta { name: string, countDelta: number, bytesDelta: number }

/**
 * @airbnb/node-memwatch, on the main thread only: it is not context-aware and aborts the
 * process when loaded in a worker thread. Optional: when its native build cannot load, the
 * in-process inspector backend is used and `note` says why.
 */
export async function memwatchBackend (moduleName = '@airbnb/node-memwatch'): Promise<HeapBackend & { heapDiff?: () => { end: () => ConstructorDelta[] } }> {
  if (!isMainThread) throw new Error('@airbnb/node-memwatch must never be loaded in a worker thread')
  let memwatch: MemwatchModule
  try {
    // imported by name at run time: the package is optional and its native build may be missing
    const mod = await import(moduleName) as { default?: MemwatchModule } & MemwatchModule
    memwatch = mod.default ?? mod
  } catch (err) {
    const fallback = inProcessBackend()
    fallback.note = `${moduleName} is not available (${(err as Error).message.split('\n')[0]}); using the in-process inspector instead`
    return fallback
  }
  const base = inProcessBackend()
  return Object.assign(base, {
    kind: 'memwatch' as const,
    heapDiff: () => {
      const diff = new memwatch.HeapDiff()
      return {
        end: () => diff.end().change.details.map(d => ({ name: d.what, countDelta: d['+'] - d['-'], bytesDelta: d.size_bytes }))
      }
    }
  })
}
