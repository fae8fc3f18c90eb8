// `crosstalk fixture`: the reference server as a standalone process. Prints one JSON line with
// its URLs (and the inspector's, bound to 127.0.0.1 only), then serves until SIGINT/SIGTERM.
import type { Command } from 'commander'
import { ConfigError, PortInUseError } from '../errors.js'
import { checkFixtureOptions, serveEmbeddedFixture } from '../target/index.js'
import { addFixtureFlags } from './fixture-flags.js'

export function registerFixtureCommand (program: Command): void {
  const command = program.command('fixture')
    .description('start the reference HTTP + WebSocket server (prints one JSON line with its URLs)')
  const fixtureOptions = addFixtureFlags(command, { defaults: { port: '0', host: '127.0.0.1' }, shorts: { port: 'p' } })
  command.option('--inspect', 'listen for the inspector on 127.0.0.1 (random port) and print its URL')
  command.action(async (flags: Record<string, unknown>) => {
    const problems: string[] = []
    const options = fixtureOptions(flags, problems)
    problems.push(...checkFixtureOptions(options).problems)
    if (problems.length > 0) throw new ConfigError(problems)
    try {
      await serveEmbeddedFixture(options, { inspect: flags.inspect === true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(`port ${options.port} is in use`)
      throw err
    }
  })
}
