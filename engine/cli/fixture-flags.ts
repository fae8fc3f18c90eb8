// `crosstalk fixture`'s flags, one per row of the fixture's option table (`--latency-ms 5`), read
// by the fixture's own parser. (`crosstalk run --fixture-*` takes the same rows, prefixed, through
// the run option table.)
import { Option, type Command } from 'commander'
import { FIXTURE_OPTION_TABLE, parseFixtureOptionValues, type FixtureOptions } from '../target/index.js'

/** Adds the flags; the returned function reads the given ones out of commander's opts(). */
export function addFixtureFlags (
  command: Command,
  o: { defaults: Partial<Record<keyof FixtureOptions, string>>, shorts: Partial<Record<keyof FixtureOptions, string>> }
): (opts: Record<string, unknown>, problems: string[]) => FixtureOptions {
  const names = new Map<keyof FixtureOptions, string>()
  for (const spec of FIXTURE_OPTION_TABLE) {
    const short = o.shorts[spec.key]
    const option = new Option(`${short === undefined ? '' : `-${short}, `}--${spec.flag} <${spec.value}>`, spec.doc)
    if (spec.kind === 'list') option.argParser((v: string, prev: string[] = []) => [...prev, v])
    const d = o.defaults[spec.key]
    if (d !== undefined) option.default(d)
    command.addOption(option)
    names.set(spec.key, option.attributeName())
  }
  return (opts, problems) => {
    const texts = Object.fromEntries([...names].map(([key, name]) => [key, opts[name] as string | string[] | undefined]))
    return parseFixtureOptionValues(texts, spec => `--${spec.flag}`, problems)
  }
}
