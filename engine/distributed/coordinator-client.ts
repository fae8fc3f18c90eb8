// A shard's side of the coordinated start: tell `crosstalk coordinate` it is ready (with a proof
// of the run secret, never the secret), wait in a long poll for the release, then wait for the
// start time it names. The coordinator may come up after the shards (its own pod on Kubernetes),
// so a refused or dropped connection is retried with backoff until --start-timeout; a refusal
// by the coordinator itself (wrong secret, another run, a taken index) ends the wait at once.
import { Agent, request } from 'undici'
import { StartError } from '../errors.js'
import { PROOF_HEADER, readyProof } from './ready-proof.js'
import { waitUntilEpoch } from './wait-until-epoch.js'

export interface AwaitReleaseOptions {
  /** the coordinator's base URL, http://host:port */
  url: string
  runId: string
  shard: { index: number, count: number }
  secret: string
  /** bound on the whole wait: reaching the coordinator, the release, the start time */
  timeoutMs: number
  /** an interrupt: the wait ends quietly (the caller treats it as the interrupt it is) */
  signal: AbortSignal
}

/** The words a shard dies with when the coordinator refuses its proof (README: Distributed runs). */
export const REFUSED_SECRET = 'the coordinator refused the run secret: every shard and the coordinator need the same $CROSSTALK_RUN_SECRET'

const MAX_ANSWER_BYTES = 4096
const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 2000
const CONNECT_TIMEOUT_MS = 5000

/** Resolves at the released start time with it (epoch ms), or at once with undefined on an interrupt; StartError otherwise. */
export async function awaitRelease (o: AwaitReleaseOptions): Promise<number | undefined> {
  const startAt = await askRelease(o)
  if (startAt === undefined) return undefined
  await waitUntilEpoch(startAt, o.timeoutMs, o.signal)
  return o.signal.aborted ? undefined : startAt
}

/** The release's start time (epoch ms), or undefined when interrupted. */
async function askRelease (o: AwaitReleaseOptions): Promise<number | undefined> {
  const deadline = Date.now() + o.timeoutMs
  const agent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: 0, bodyTimeout: 0 })
  let connected = false
  agent.on('connect', () => { connected = true })
  const attempt = new Attempts(o)
  try {
    while (!o.signal.aborted) {
      const left = deadline - Date.now()
      if (left <= 0) throw attempt.timedOut(false)
      const timeout = AbortSignal.timeout(left)
      connected = false
      const answer = await post(o, agent, AbortSignal.any([o.signal, timeout])).catch((err: unknown) => err instanceof Error ? err : new Error(String(err)))
      if (o.signal.aborted) return undefined
      if (timeout.aborted) throw attempt.timedOut(connected)
      if (answer instanceof Error) {
        attempt.failed(answer)
      } else {
        const startAt = attempt.judge(answer.status, answer.text)
        if (startAt !== undefined) return startAt
      }
      await backoff(attempt.tries, deadline, o.signal)
    }
    return undefined
  } finally {
    await agent.destroy().catch(() => {})
  }
}

async function post (o: AwaitReleaseOptions, agent: Agent, signal: AbortSignal): Promise<{ status: number, text: string }> {
  const { index, count } = o.shard
  const res = await request(`${o.url}/ready`, {
    method: 'POST',
    dispatcher: agent,
    signal,
    headers: { 'content-type': 'application/json', [PROOF_HEADER]: readyProof(o.secret, o.runId, index, count) },
    body: JSON.stringify({ runId: o.runId, shard: { index, count } })
  })
  let text = ''
  for await (const chunk of res.body) {
    text += (chunk as Buffer).toString('utf8')
    if (text.length > MAX_ANSWER_BYTES) { res.body.destroy(); break }
  }
  return { status: res.statusCode, text }
}

/** The attempts so far: what failed last, and what each answer means. */
class Attempts {
  tries = 0
  #lastCause = ''
  readonly #o: AwaitReleaseOptions

  constructor (o: AwaitReleaseOptions) {
    this.#o = o
  }

  /** A connection that failed or dropped: retried (the coordinator may not be up yet). */
  failed (err: Error): void {
    this.tries++
    const code = (err as { code?: unknown }).code
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
    this.#lastCause = `${err.message}${cause}${typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : ''}`
  }

  /** The start time of a release; undefined to retry (a proxy's 502/503, a coordinator restarting); StartError for a refusal. */
  judge (status: number, text: string): number | undefined {
    this.tries++
    const body = parse(text)
    const reason = typeof body?.error === 'string' ? body.error : text.slice(0, 200)
    const { index, count } = this.#o.shard
    if (status === 200) {
      if (typeof body?.startAtEpochMs === 'number' && Number.isFinite(body.startAtEpochMs)) return body.startAtEpochMs
      throw new StartError(`the coordinator at ${this.#o.url} released shard ${index}/${count} without a start time: ${text.slice(0, 200)}`)
    }
    if (status === 403) throw new StartError(REFUSED_SECRET)
    if (status === 409) throw new StartError(`the coordinator refused shard ${index}/${count}: ${reason}`)
    if (status === 504) throw new StartError(`the coordinator gave up: ${reason}`)
    if (status === 502 || status === 503) {
      this.#lastCause = `HTTP ${status}: ${reason}`
      return undefined
    }
    throw new StartError(`the coordinator at ${this.#o.url} answered HTTP ${status}: ${reason}`)
  }

  /** --start-timeout ran out: waiting for the release (`held`), or never reaching the coordinator. */
  timedOut (held: boolean): StartError {
    const { url, timeoutMs, shard } = this.#o
    const bound = `--start-timeout (${timeoutMs / 1000}s)`
    if (held || this.#lastCause === '') return new StartError(`no release from the coordinator at ${url} within ${bound}: shard ${shard.index}/${shard.count} was ready and waiting (the coordinator's output names the shards that never came)`)
    return new StartError(`the coordinator at ${url} was unreachable after ${this.tries} tr${this.tries === 1 ? 'y' : 'ies'} within ${bound}: ${this.#lastCause}`)
  }
}

function parse (text: string): { error?: unknown, startAtEpochMs?: unknown } | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null ? v : undefined
  } catch {
    return undefined
  }
}

/** 100 ms, doubling to 2 s, never past the deadline; ends early on an interrupt. */
async function backoff (tries: number, deadline: number, signal: AbortSignal): Promise<void> {
  const ms = Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(0, tries - 1), MAX_BACKOFF_MS, deadline - Date.now())
  if (ms <= 0 || signal.aborted) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
