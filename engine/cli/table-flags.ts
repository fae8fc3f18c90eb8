// Registers rows of the run option table as commander flags, and hands back what was given
// keyed by row (commander only splits the command line; the table's kinds read the values).
import { Option, type Command } from 'commander'
import { flagHelp, flagText, type FlagValue, type FlagValues, type RunOptionRow } from '../options/index.js'

/** Adds a flag per row; the returned function picks the given values out of commander's opts(). */
export function addTableFlags (command: Command, rows: readonly RunOptionRow[]): (opts: Record<string, unknown>) => FlagValues {
  const names = new Map<RunOptionRow, string>()
  for (const row of rows) {
    if (row.flag === undefined) continue
    const option = new Option(flagText(row.flag), flagHelp(row))
    // repeated flags collect as given; a list kind splits commas itself
    if (row.flag.repeatable === true) option.argParser((v: string, prev: string[] = []) => [...prev, v])
    command.addOption(option)
    names.set(row, option.attributeName())
  }
  return opts => {
    const values = new Map<RunOptionRow, FlagValue>()
    // commander gives a `--no-x` switch the value true when it is not given: that is no flag
    for (const [row, name] of names) if (opts[name] !== undefined && command.getOptionValueSource(name) !== 'default') values.set(row, opts[name] as FlagValue)
    return values
  }
}
