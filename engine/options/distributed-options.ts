// The options of a run that is one shard of several: its slice, the run's shared id and secret,
// and how its load phase starts (a coordinator's release or a wall-clock time). Checked with
// the rest, before any load; the secret is read from the environment only, never a flag or a
// config file, so it stays out of shell history, process lists and reports.
import { parseShard, type Shard } from '../load/index.js'
import { isLoopbackHost, parseDuration, registerSecret } from '../shared/index.js'
import { defaultOf } from './option-table.js'
import type { Problems } from './problems.js'

/** The environment variable that carries the run secret to every shard. */
export const RUN_SECRET_ENV = 'CROSSTALK_RUN_SECRET'
/** HMAC-SHA256 keys shorter than this are weak; 32 random bytes as hex is 64 characters. */
export const MIN_SECRET_CHARS = 32

export interface DistributedInput {
  shard?: string | { index: number, count: number }
  runId?: string
  coordinator?: string
  startAt?: string
  startTimeout?: string | number
  allowRemote?: boolean
}

export interface ResolvedDistributed {
  /** this process's shard, or null: the whole run */
  shard: Shard | null
  /** the run's id when given (shards share it), else null: a random one */
  runId: string | null
  /** the canary key from $CROSSTALK_RUN_SECRET when a run id is given, else null: a random one */
  secret: string | null
  /** the coordinator's base URL, or null */
  coordinator: string | null
  /** epoch ms to start the load at, or null */
  startAtMs: number | null
  /** bound on the wait for a release or for startAt, once set up */
  startTimeoutMs: number
}

export function resolveDistributed (o: DistributedInput, problems: Problems, env: NodeJS.ProcessEnv = process.env): ResolvedDistributed {
  let shard: Shard | null = null
  if (o.shard !== undefined) {
    const parsed = parseShard(o.shard)
    if (typeof parsed === 'string') problems.add(parsed)
    else shard = parsed
  }
  const runId = o.runId ?? null
  const envSecret = env[RUN_SECRET_ENV]
  let secret: string | null = null
  if (runId !== null && envSecret !== undefined && envSecret !== '') {
    if (envSecret.length < MIN_SECRET_CHARS) problems.add(`$${RUN_SECRET_ENV} must be at least ${MIN_SECRET_CHARS} characters (e.g. \`openssl rand -hex 32\`)`)
    else { secret = envSecret; registerSecret(envSecret) }
  }
  if (shard !== null && (runId === null || secret === null)) {
    problems.add(`a shard (--shard) needs the run's id (--run-id) and its secret in $${RUN_SECRET_ENV} (${MIN_SECRET_CHARS}+ characters), the same on every shard, so each verifies the others' canaries`)
  }
  const startTimeoutMs = problems.catch(() => parseDuration(o.startTimeout ?? defaultOf<string>('startTimeout'), 'startTimeout')) ?? 1
  if (o.coordinator !== undefined && o.startAt !== undefined) problems.add('give either --coordinator or --start-at, not both')
  if (o.coordinator !== undefined && o.shard === undefined) problems.add('a coordinated start (--coordinator) is for the shards of a run: give --shard i/n too (and --run-id, the same on every shard)')
  return { shard, runId, secret, coordinator: resolveCoordinator(o, problems), startAtMs: resolveStartAt(o, startTimeoutMs, problems), startTimeoutMs }
}

function resolveCoordinator (o: DistributedInput, problems: Problems): string | null {
  if (o.coordinator === undefined) return null
  let url: URL
  try {
    url = new URL(o.coordinator)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add(`coordinator must be an http:// URL of \`crosstalk coordinate\`, e.g. http://127.0.0.1:7070 (got '${o.coordinator}')`)
    return null
  }
  if (o.allowRemote !== true && !isLoopbackHost(url.hostname)) {
    problems.add(`coordinator ${url.host} is not a loopback address: give --allow-remote to reach it`)
    return null
  }
  return url.origin
}

/** An ISO time with its zone; past by more than the start timeout is a mistake, not a start. */
function resolveStartAt (o: DistributedInput, startTimeoutMs: number, problems: Problems): number | null {
  if (o.startAt === undefined) return null
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(o.startAt.trim())
  const at = Date.parse(o.startAt)
  if (!zoned || Number.isNaN(at)) {
    problems.add(`start-at must be an ISO time with its zone, e.g. 2026-12-01T10:00:00Z (got '${o.startAt}')`)
    return null
  }
  const now = Date.now()
  if (at < now - startTimeoutMs) problems.add(`start-at ${o.startAt} is more than --start-timeout (${startTimeoutMs / 1000}s) in the past`)
  if (at > now + startTimeoutMs) problems.add(`start-at ${o.startAt} is more than --start-timeout (${startTimeoutMs / 1000}s) away: raise --start-timeout to wait that long`)
  return at
}
