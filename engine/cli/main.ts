// The `crosstalk` command. Errors print `crosstalk: <CODE>: <message>` and exit with their class's
// code (2 for bad input); a failed run exits 1, an interrupted one 130.
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { type CrosstalkError, EXIT_PASSED, InternalError, UsageError, isCrosstalkError } from '../errors.js'
import { registerFixtureCommand } from './fixture-command.js'
import { registerRunCommand } from './run-command.js'
import { registerCompareCommand } from './compare-command.js'
import { registerReportCommand } from './report-command.js'
import { registerMergeCommand } from './merge-command.js'
import { registerK8sCommand } from './k8s-command.js'
import { registerCoordinateCommand } from './coordinate-command.js'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

export function createProgram (): Command {
  const program = new Command('crosstalk')
    .description('concurrency, isolation and leak testing for Node.js HTTP + WebSocket services')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // errors are printed once, in our format, below
  registerRunCommand(program)
  registerCompareCommand(program)
  registerReportCommand(program)
  registerMergeCommand(program)
  registerFixtureCommand(program)
  registerK8sCommand(program)
  registerCoordinateCommand(program)
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => {} })
  return program
}

function fail (err: CrosstalkError, detail = ''): void {
  process.stderr.write(`crosstalk: ${err.code}: ${err.message}\n${detail}`)
  process.exitCode = err.exitCode
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
      fail(new UsageError(err.message.replace(/^error:\s*/, '')))
    } else if (isCrosstalkError(err)) {
      fail(err)
    } else {
      // a bug in crosstalk: the stack is what a user pastes into the report
      const stack = err instanceof Error ? err.stack : undefined
      fail(new InternalError(err instanceof Error ? err.message : String(err), { cause: err }), stack === undefined ? '' : `${stack}\n`)
    }
  }
}

await main(process.argv)
