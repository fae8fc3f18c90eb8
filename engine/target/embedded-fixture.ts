// The one door from the engine to fixtures/, the reference server: its option names and their
// validation (a small module), and starting it in this process, as a child process or as the
// `crosstalk fixture` command. The server itself is imported on first use, so a run against
// --target never loads it.
import { fileURLToPath } from 'node:url'
import type { FixtureHandle, FixtureOptions, ServeFixtureOptions } from '../../fixtures/index.js'

export type { FixtureBug, FixtureLeak, FixtureMode, FixtureOptions, FixtureStats } from '../../fixtures/index.js'
export {
  FIXTURE_MODES, FIXTURE_OPTION_TABLE, FIXTURE_DEFAULTS, validateFixtureOptions, checkFixtureOptions, parseFixtureOptionValues, parseFixtureValue, fixtureOptionArgs,
  type FixtureOptionSpec, type FixtureOptionKind
} from '../../fixtures/options.js'
export { FIXTURE_BUGS } from '../../fixtures/bugs.js'
export { FIXTURE_LEAKS } from '../../fixtures/leaks.js'

/** The fixture's process entry (`node <entry> --port 0 ...` prints one JSON line with its URLs). */
export const FIXTURE_CHILD_ENTRY = fileURLToPath(new URL('../../fixtures/child.js', import.meta.url))

export async function startEmbeddedFixture (options: FixtureOptions): Promise<FixtureHandle> {
  const { startFixture } = await import('../../fixtures/server.js')
  return await startFixture(options)
}

/** Serves until SIGINT/SIGTERM, printing one JSON line with the URLs (`crosstalk fixture`). */
export async function serveEmbeddedFixture (options: FixtureOptions, serve: ServeFixtureOptions): Promise<FixtureHandle> {
  const { serveFixture } = await import('../../fixtures/serve.js')
  return await serveFixture(options, serve)
}
