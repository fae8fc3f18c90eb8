// The fixture's options as command-line flags: `crosstalk fixture --latency-ms 5` and
// `crosstalk run --fixture-latency-ms 5` read them the same way.
import type { FixtureBug, FixtureLeak, FixtureMode, FixtureOptions } from '../target/index.js'
import { decimal } from './parse.js'

export interface FixtureFlagValues {
  mode?: string | undefined
  bug?: string[] | undefined
  leak?: string[] | undefined
  latencyMs?: string | undefined
  concurrency?: string | undefined
  errorRate?: string | undefined
  eventsPerSecond?: string | undefined
  eventRate?: string | undefined
}

/** `prefix` is how the flags are named on this command ('' or 'fixture-'), for the messages. */
export function fixtureOptionsFromFlags (v: FixtureFlagValues, prefix: string, problems: string[]): FixtureOptions {
  const o: FixtureOptions = {}
  if (v.mode !== undefined) o.mode = v.mode as FixtureMode
  if (v.bug !== undefined) o.bugs = v.bug as FixtureBug[]
  if (v.leak !== undefined) o.leaks = v.leak as FixtureLeak[]
  const numbers = [['latencyMs', 'latency-ms'], ['concurrency', 'concurrency'], ['errorRate', 'error-rate'], ['eventsPerSecond', 'events-per-second'], ['eventRate', 'event-rate']] as const
  for (const [key, flag] of numbers) {
    const n = decimal(`--${prefix}${flag}`, v[key], problems)
    if (n !== undefined) o[key] = n
  }
  return o
}
