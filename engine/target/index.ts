// What is under test: a URL the user names (loopback unless allowed, reachable) or the embedded
// fixture, reached only through this folder and loaded on first use.
export { resolveTarget, parseTargetUrl, probeTcp, fixtureArgs, type ResolvedTarget, type FixtureProcess } from './resolve-target.js'
export {
  FIXTURE_BUGS, FIXTURE_LEAKS, FIXTURE_MODES, FIXTURE_CHILD_ENTRY, FIXTURE_OPTION_TABLE, FIXTURE_DEFAULTS, validateFixtureOptions, checkFixtureOptions,
  parseFixtureOptionValues, parseFixtureValue, fixtureOptionArgs, serveEmbeddedFixture,
  type FixtureOptionSpec, type FixtureOptionKind, type FixtureBug, type FixtureLeak, type FixtureMode, type FixtureOptions, type FixtureStats
} from './embedded-fixture.js'
