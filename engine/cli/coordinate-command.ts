// `crosstalk coordinate --shards n --run-id id`: the process that releases a run's shards
// together (engine/distributed/coordinator.ts). One line when listening (tests and scripts read
// the port from it with --port 0), one per shard ready, one on the release; exits 0 once every
// shard was released, 2 (CT_ERR_START) when one never came. The run secret comes from the
// environment only and is never printed.
import type { Command } from 'commander'
import { ConfigError, EXIT_PASSED } from '../errors.js'
import { Coordinator, COORDINATOR_DEFAULTS, type CoordinatorEvent } from '../distributed/index.js'
import { MIN_SECRET_CHARS, RUN_ID, RUN_SECRET_ENV } from '../options/index.js'
import { isLoopbackHost, parseDuration, registerSecret } from '../shared/index.js'
import { wholeNumber } from './parse.js'
import { StopSignals } from './stop-signals.js'

interface CoordinateFlags {
  shards: string
  runId: string
  host: string
  port: string
  timeout: string
  lead: string
  allowRemote?: boolean
}

const PREFIX = 'crosstalk coordinate:'

export function registerCoordinateCommand (program: Command): void {
  program.command('coordinate')
    .description(`release a run's shards together: each \`run --shard i/n --coordinator <url>\` reports ready once set up; all start their load at one moment (secret from $${RUN_SECRET_ENV})`)
    .requiredOption('--shards <n>', 'how many shards to wait for (the n of every --shard i/n)')
    .requiredOption('--run-id <id>', "the run's id, the same as every shard's --run-id")
    .option('--host <host>', 'address to listen on (a non-loopback one, e.g. 0.0.0.0 in a cluster, needs --allow-remote)', COORDINATOR_DEFAULTS.host)
    .option('--port <n>', 'port to listen on (0: a free one, printed)', String(COORDINATOR_DEFAULTS.port))
    .option('--timeout <duration>', 'how long to wait for every shard to be ready (CT_ERR_START past it)', '10m')
    .option('--lead <duration>', "how far ahead of the release the shards' common start time is (0 for none)", `${COORDINATOR_DEFAULTS.leadMs}ms`)
    .option('--allow-remote', 'listen on a non-loopback address')
    .action(async (flags: CoordinateFlags) => {
      process.exitCode = await coordinate(flags)
    })
}

async function coordinate (f: CoordinateFlags): Promise<number> {
  const o = coordinatorOptions(f)
  const signals = new StopSignals('closing the coordinator')
  const coordinator = new Coordinator({ ...o, onEvent: e => { process.stdout.write(`${PREFIX} ${eventLine(e, o.shards)}\n`) } })
  try {
    const url = await coordinator.listen()
    process.stdout.write(`${PREFIX} listening on ${url} for ${o.shards} shard${o.shards === 1 ? '' : 's'} of run ${o.runId}\n`)
    const stopped = new Promise<'stopped'>(resolve => { signals.signal.addEventListener('abort', () => resolve('stopped'), { once: true }) })
    if (await Promise.race([coordinator.done, stopped]) === 'stopped') {
      await coordinator.close()
      return signals.exitCode
    }
    return EXIT_PASSED
  } finally {
    signals.close()
  }
}

/** The coordinator's options from the flags and $CROSSTALK_RUN_SECRET; every problem at once (CT_ERR_CONFIG). */
function coordinatorOptions (f: CoordinateFlags): { shards: number, runId: string, secret: string, host: string, port: number, timeoutMs: number, leadMs: number } {
  const problems: string[] = []
  const shards = wholeNumber('--shards', f.shards, problems) ?? 1
  if (shards < 1) problems.push('--shards must be 1 or more')
  const port = wholeNumber('--port', f.port, problems) ?? 0
  if (port > 65_535) problems.push(`--port must be 0 to 65535 (got ${port})`)
  if (!RUN_ID.test(f.runId)) problems.push(`--run-id must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit (got '${f.runId}')`)
  if (!isLoopbackHost(f.host) && f.allowRemote !== true) problems.push(`--host ${f.host} is not a loopback address: give --allow-remote to listen there (e.g. --host 0.0.0.0 --allow-remote in a cluster)`)
  const duration = (value: string, flag: string): number => {
    if (flag === '--lead' && value.trim() === '0') return 0
    try { return parseDuration(value, flag) } catch (err) { problems.push((err as Error).message); return 1 }
  }
  const timeoutMs = duration(f.timeout, '--timeout')
  const leadMs = duration(f.lead, '--lead')
  const secret = process.env[RUN_SECRET_ENV] ?? ''
  if (secret.length < MIN_SECRET_CHARS) problems.push(`$${RUN_SECRET_ENV} must hold the run secret, at least ${MIN_SECRET_CHARS} characters (e.g. \`openssl rand -hex 32\`), the same as every shard's`)
  else registerSecret(secret)
  if (problems.length > 0) throw new ConfigError(problems)
  return { shards, runId: f.runId, secret, host: f.host, port, timeoutMs, leadMs }
}

function eventLine (e: CoordinatorEvent, shards: number): string {
  if (e.type === 'ready') return `shard ${e.index}/${shards} ready (${e.ready} of ${shards})`
  if (e.type === 'dropped') return `shard ${e.index}/${shards} dropped its connection before the release (${e.ready} of ${shards} ready)`
  return `released ${shards} shard${shards === 1 ? '' : 's'} at ${new Date(e.releasedAtEpochMs).toISOString()}: load starts at ${new Date(e.startAtEpochMs).toISOString()} (epoch ms ${e.startAtEpochMs})`
}
