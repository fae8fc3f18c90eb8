// The run option table: README's `crosstalk run` flag table and `run --help` show exactly its
// flags; every problem is reported at once; config files are checked against it; fixture
// options read alike from flags, a `fixture:` query and the child's argv.
import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { flagText, Problems, RUN_OPTION_TABLE, runOptionsFromFlags, type FlagValue, type RunOptionRow } from '../engine/options/index.js'
import { defaultText } from '../engine/options/option-table.js'
import { builtInScenarios } from '../engine/scenario/index.js'
import { parseCompareTarget } from '../engine/compare/targets.js'
import { fixtureArgs } from '../engine/target/resolve-target.js'
import { parseFixtureArgs } from '../fixtures/index.js'
import { cli, tempDir } from './support.js'

const README = new URL('../../README.md', import.meta.url)
const flagged = RUN_OPTION_TABLE.filter((r): r is RunOptionRow & { flag: NonNullable<RunOptionRow['flag']> } => r.flag !== undefined)

/** The rows of the table headed "`crosstalk run [scenario]` flag", cells trimmed. */
function readmeRunFlagRows (): string[][] {
  const text = readFileSync(README, 'utf8')
  const start = text.indexOf('| `crosstalk run [scenario]` flag |')
  if (start === -1) throw new Error('README.md has no `crosstalk run` flag table')
  const end = text.indexOf('\n\n', start)
  return text.slice(start, end).split('\n').slice(2).map(line => line.split(' | ').map(c => c.replace(/^\|\s*|\s*\|$/g, '').trim()))
}

test('README\'s run flag table has one row per flag of the table, in order, with its doc and default', t => {
  const [scenario, ...rows] = readmeRunFlagRows()
  t.is(scenario![0], '`[scenario]`')
  for (const name of builtInScenarios()) t.true(scenario![1]!.includes(`\`${name}\``), name)
  t.true(scenario![1]!.includes('`.mts`'))
  t.deepEqual(rows.map(r => r[0]), flagged.map(r => `\`${flagText(r.flag)}\``))
  t.deepEqual(rows, flagged.map(r => [`\`${flagText(r.flag)}\``, r.doc, defaultText(r) ?? '']))
})

test('run --help lists every flag of the table and no other (but --help), and every built-in scenario', async t => {
  const r = await cli(['run', '--help'])
  t.is(r.code, 0, r.stderr)
  const helpFlags = [...r.stdout.matchAll(/^ {2}(-\w, )?--([\w-]+)/gm)].map(m => m[2]).filter(f => f !== 'help')
  t.deepEqual(helpFlags.sort(), flagged.map(f => f.flag.long).sort())
  const argument = r.stdout.slice(r.stdout.indexOf('Arguments:'), r.stdout.indexOf('Options:'))
  for (const name of builtInScenarios()) t.regex(argument, new RegExp(`\\b${name}\\b`))
  t.regex(argument.replace(/\s+/g, ' '), /\.js, \.mjs, \.ts, \.mts/)
})

test('the table is well formed: unique keys and flags, nested keys under an object option', t => {
  const keys = RUN_OPTION_TABLE.map(r => r.key)
  t.is(new Set(keys).size, keys.length)
  const longs = flagged.map(r => r.flag.long)
  t.is(new Set(longs).size, longs.length)
  const shorts = flagged.flatMap(r => r.flag.short ?? [])
  t.is(new Set(shorts).size, shorts.length)
  for (const k of keys.filter(k => k.includes('.'))) t.true(keys.includes(k.split('.')[0]!), k)
  for (const r of RUN_OPTION_TABLE) t.true(r.doc.length > 0, r.key)
})

test('every problem at once: one CT_ERR_CONFIG line listing them all, exit 2, before any load', async t => {
  const dir = tempDir(t)
  const r = await cli(['run', '--workers', '0', '--users', '-1', '--threshold', 'x: p(95<50', '--duration', 'soon'], { cwd: dir, timeoutMs: 20_000 })
  t.is(r.code, 2, r.stderr)
  const lines = r.stderr.trim().split('\n')
  t.regex(lines[0]!, /^crosstalk: CT_ERR_CONFIG: /)
  t.notRegex(r.stderr, /CT_ERR_THRESHOLD|CT_ERR_DURATION/)
  t.regex(r.stderr, /workers must be a whole number from 1 to 64 \(got 0\)/)
  t.regex(r.stderr, /--users expects a whole number, got '-1'/)
  t.regex(r.stderr, /bad threshold expression 'p\(95<50'/)
  t.regex(r.stderr, /unknown metric 'x'/)
  t.regex(r.stderr, /invalid duration 'soon'/)
  t.is(r.stdout, '')
  t.false(r.stderr.includes('load'), 'no load started')
})

test('compare: every problem at once, its own (rounds, budgets, targets) with the run flags, exit 2, before any server starts', async t => {
  const dir = tempDir(t)
  const r = await cli(['compare', '-b', 'fixture:legacy', '-c', 'fixture:context', '--rounds', '0', '--workers', '0', '--budget', 'p95=banana'], { cwd: dir, timeoutMs: 20_000 })
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^crosstalk: CT_ERR_CONFIG: 3 problems:\n/, 'one error listing them all')
  t.is(r.stderr.trim().split('\n').filter(l => l.startsWith('  - ')).length, 3, r.stderr)
  t.notRegex(r.stderr, /CT_ERR_BUDGET/)
  const problems = [/rounds must be an integer from 1 to 50 \(got 0\)/, /workers must be a whole number from 1 to 64 \(got 0\)/, /budget 'p95=banana'/]
  for (const p of problems) t.regex(r.stderr, p)
  t.is(r.stdout, '')

  const targets = await cli(['compare', '-b', 'fixture:nope', '-c', 'fixture:context?latencyMs=slow', '--budget', 'p95=banana'], { cwd: dir, timeoutMs: 20_000 })
  t.is(targets.code, 2, targets.stderr)
  t.regex(targets.stderr, /^crosstalk: CT_ERR_CONFIG: 3 problems:\n/)
  t.regex(targets.stderr, /'fixture:nope': the fixture's mode must be/)
  t.regex(targets.stderr, /'fixture:context\?latencyMs=slow': latencyMs/)
  t.regex(targets.stderr, /budget 'p95=banana'/)
})

test('a config file: an unknown key is reported with a did-you-mean, a value of the wrong kind like a flag', async t => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'crosstalk.config.json'), JSON.stringify({ usres: 5, workers: 'two', leaks: { everyOp: 10 }, fixture: { latencyMs: 'slow' }, duration: '1s' }))
  const r = await cli(['run', '-q'], { cwd: dir, timeoutMs: 20_000 })
  t.is(r.code, 2, r.stderr)
  t.regex(r.stderr, /^crosstalk: CT_ERR_CONFIG: /)
  t.regex(r.stderr, /crosstalk\.config\.json: unknown option 'usres' \(did you mean 'users'\?\)/)
  t.regex(r.stderr, /crosstalk\.config\.json: unknown option 'leaks\.everyOp' \(did you mean 'leaks\.everyOps'\?\)/)
  t.regex(r.stderr, /crosstalk\.config\.json: workers must be a whole number \(got 'two'\)/)
  t.regex(r.stderr, /crosstalk\.config\.json: fixture\.latencyMs must be a number \(got 'slow'\)/)
})

test('a lone threshold or duration problem keeps its own code', async t => {
  const dir = tempDir(t)
  const duration = await cli(['run', '--duration', 'soon'], { cwd: dir, timeoutMs: 20_000 })
  t.regex(duration.stderr, /^crosstalk: CT_ERR_DURATION: invalid duration 'soon'/)
  const syntax = await cli(['run', '--threshold', 'http.req.duration: p(95<50'], { cwd: dir, timeoutMs: 20_000 })
  t.regex(syntax.stderr, /^crosstalk: CT_ERR_THRESHOLD_SYNTAX: /)
})

test('fixture options read alike from run flags, a fixture: query and the child\'s argv (through the serializer)', t => {
  const expected = { mode: 'legacy', bugs: ['idor', 'ws-broadcast'], leaks: ['map-leak'], latencyMs: 12, concurrency: 4, errorRate: 0.25, eventsPerSecond: 3, eventRate: 200, topicEventsPerSecond: 0, eventPayloadBytes: 64 }
  const byFlag = new Map<string, FlagValue>([
    ['fixture-mode', 'legacy'], ['fixture-bug', ['idor', 'ws-broadcast']], ['fixture-leak', ['map-leak']], ['fixture-latency-ms', '12'],
    ['fixture-concurrency', '4'], ['fixture-error-rate', '0.25'], ['fixture-events-per-second', '3'], ['fixture-event-rate', '200'],
    ['fixture-topic-events-per-second', '0'], ['fixture-event-payload-bytes', '64']
  ])
  const values = new Map(flagged.filter(r => byFlag.has(r.flag.long)).map(r => [r as RunOptionRow, byFlag.get(r.flag.long)!]))
  t.is(values.size, byFlag.size)
  const problems = new Problems()
  const fromFlags = runOptionsFromFlags(values, {}, problems).fixture
  t.deepEqual(problems.messages, [])
  t.deepEqual(fromFlags, expected)

  const query = 'fixture:legacy?bugs=idor,ws-broadcast&leaks=map-leak&latencyMs=12&concurrency=4&errorRate=0.25&eventsPerSecond=3&eventRate=200&topicEventsPerSecond=0&eventPayloadBytes=64'
  const target = parseCompareTarget(query, '.')
  t.deepEqual(target.kind === 'fixture' ? target.options : null, expected)

  const { inspect, port, ...child } = parseFixtureArgs(fixtureArgs({ ...expected, inspect: true } as Parameters<typeof fixtureArgs>[0]))
  t.true(inspect)
  t.is(port, 0)
  t.deepEqual(child, expected)
})

test('fixture option problems are listed together, wherever they come from', t => {
  t.throws(() => parseCompareTarget('fixture:modern?latencyMs=x&colour=red', '.'), {
    message: /the fixture's mode must be legacy or context.*unknown fixture option 'colour'.*latencyMs expects a number/s
  })
  const problems = new Problems()
  const values = new Map(flagged.filter(r => r.flag.long === 'fixture-latency-ms' || r.flag.long === 'target').map(r => [r as RunOptionRow, r.flag.long === 'target' ? 'http://127.0.0.1:1' : 'x']))
  runOptionsFromFlags(values, {}, problems)
  t.is(problems.size, 2)
  t.regex(problems.messages.join('\n'), /--fixture-latency-ms expects a number, got 'x'/)
  t.regex(problems.messages.join('\n'), /cannot be combined with --target/)
})
