// What is under test: a URL the user names (loopback unless allowed, reachable) or the embedded
// fixture, reached only through this folder and loaded on first use.
export { resolveTarget, parseTargetUrl, probeTcp, fixtureArgs, type ResolvedTarget, type FixtureProcess } from './resolve-target.js'
export { FIXTURE_BUGS, FIXTURE_LEAKS, FIXTURE_MODES, FIXTURE_OPTION_TABLE, FIXTURE_DEFAULTS, validateFixtureOptions, checkFixtureOptions, parseFixtureOptionValues, parseFixtureValue, serveEmbeddedFixture, type FixtureOptionSpec, type FixtureBug, type FixtureLeak, type FixtureOptions, type FixtureStats } from './embedded-fixture.js'
export { superviseGroup } from './supervise.js'
