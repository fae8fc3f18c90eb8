// `crosstalk fixture`: the reference server as a standalone process. Prints one JSON line with
// its URLs (and the inspector's, bound to 127.0.0.1 only), then serves until SIGINT/SIGTERM.
import type { Command } from 'commander'
import { ConfigError, PortInUseError } from '../errors.js'
import { FIXTURE_BUGS, FIXTURE_LEAKS, serveEmbeddedFixture, validateFixtureOptions, type FixtureOptions } from '../target/index.js'
import { fixtureOptionsFromFlags } from './fixture-flags.js'
import { collect, wholeNumber } from './parse.js'

interface FixtureFlags {
  port: string
  host?: string
  mode?: string
  bug?: string[]
  leak?: string[]
  latencyMs?: string
  concurrency?: string
  errorRate?: string
  eventsPerSecond?: string
  eventRate?: string
  inspect?: boolean
}

export function registerFixtureCommand (program: Command): void {
  program.command('fixture')
    .description('start the reference HTTP + WebSocket server (prints one JSON line with its URLs)')
    .option('-p, --port <port>', 'port to listen on (0: a free port)', '0')
    .option('--host <host>', 'loopback address to bind', '127.0.0.1')
    .option('--mode <mode>', 'request handling: context (AsyncLocalStorage) or legacy (module-level state)')
    .option('--bug <name>', `plant a bug (repeatable): ${FIXTURE_BUGS.join(', ')}`, collect)
    .option('--leak <name>', `plant a memory leak (repeatable): ${FIXTURE_LEAKS.join(', ')} (bounded-cache fills, then stops: not a leak)`, collect)
    .option('--latency-ms <ms>', 'fixed delay before every response')
    .option('--concurrency <n>', 'requests handled at once; the rest queue (default unlimited)')
    .option('--error-rate <fraction>', 'share of requests answered 500')
    .option('--events-per-second <n>', 'events per second on each /events WebSocket')
    .option('--event-rate <n>', 'events per second over all /events WebSockets (overrides --events-per-second)')
    .option('--inspect', 'listen for the inspector on 127.0.0.1 (random port) and print its URL')
    .action(async (flags: FixtureFlags) => {
      const problems: string[] = []
      const options: FixtureOptions = fixtureOptionsFromFlags(flags, '', problems)
      const port = wholeNumber('--port', flags.port, problems)
      if (port !== undefined) options.port = port
      if (flags.host !== undefined) options.host = flags.host
      if (problems.length === 0) {
        try {
          validateFixtureOptions(options)
        } catch (err) {
          problems.push((err as Error).message)
        }
      }
      if (problems.length > 0) throw new ConfigError(problems)
      try {
        await serveEmbeddedFixture(options, { inspect: flags.inspect === true })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(`port ${options.port} is in use`)
        throw err
      }
    })
}
