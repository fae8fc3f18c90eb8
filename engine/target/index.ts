// What is under test: a URL the user names (loopback unless allowed, reachable), a server started
// from a command (cmd:), or the embedded fixture, reached only through this folder and loaded on first use.
export { resolveTarget, parseTargetUrl, type ResolvedTarget, type FixtureProcess } from './resolve-target.js'
export { probeTcp } from './probe-tcp.js'
export type { CommandStartup } from './command-target.js'
export { parseTargetSpec, CMD_PREFIX, type TargetCommand } from './target-spec.js'
export { FIXTURE_BUGS, FIXTURE_LEAKS, FIXTURE_MODES, FIXTURE_OPTION_TABLE, FIXTURE_DEFAULTS, validateFixtureOptions, checkFixtureOptions, parseFixtureOptionValues, parseFixtureValue, serveEmbeddedFixture, type FixtureOptionSpec, type FixtureBug, type FixtureLeak, type FixtureOptions, type FixtureStats } from './embedded-fixture.js'
