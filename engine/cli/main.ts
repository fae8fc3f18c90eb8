// The `crosstalk` command. Errors end as one line `crosstalk: <CODE>: <message>` and exit 2 for
// bad input; a failed run exits 1, an interrupted one 130.
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, isCrosstalkError } from '../errors.js'
import { registerFixtureCommand } from './fixture-command.js'
import { registerRunCommand } from './run-command.js'
import { registerCompareCommand } from './compare-command.js'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

export function createProgram (): Command {
  const program = new Command('crosstalk')
    .description('concurrency, isolation and leak testing for Node.js HTTP + WebSocket services')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // errors are printed once, in our format, below
  registerRunCommand(program)
  registerCompareCommand(program)
  registerFixtureCommand(program)
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => {} })
  return program
}

function fail (code: string, message: string, exitCode: number): void {
  process.stderr.write(`crosstalk: ${code}: ${message}\n`)
  process.exitCode = exitCode
}

export async function main (argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exitCode = EXIT_PASSED
        return
      }
      fail('CT_ERR_USAGE', err.message.replace(/^error:\s*/, ''), EXIT_USAGE)
    } else if (isCrosstalkError(err)) {
      fail(err.code, err.message, err.exitCode)
    } else {
      fail('CT_ERR_INTERNAL', (err as Error)?.stack ?? String(err), EXIT_FAILED)
    }
  }
}

await main(process.argv)
