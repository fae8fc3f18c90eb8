// README's "Testing your own server" runs as written: each `npx crosstalk` command of that section
// against examples/own-server (a notes service that knows nothing of crosstalk), and its ava
// example in an ava process of its own. Reports go to a temp dir, never into the repository.
import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunResult } from '../engine/index.js'
import { cli, tempDir } from './support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The `npx crosstalk ...` lines of the README section, as argument lists (single quotes kept together). */
function walkthroughCommands (): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Testing your own server'), readme.indexOf('## Running scenarios'))
  return section.split('\n').filter(l => l.startsWith('npx crosstalk ')).map(l =>
    [...l.slice('npx crosstalk '.length).matchAll(/'([^']*)'|(\S+)/g)].map(m => m[1] ?? m[2]!))
}

function report (dir: string): RunResult {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunResult
}

const commands = walkthroughCommands()

test('the README walkthrough has its four commands', t => {
  t.is(commands.length, 4, JSON.stringify(commands))
})

test.serial('1. 1000 real accounts from users.csv against the server crosstalk starts: passes, no violation, no password printed', async t => {
  const out = tempDir(t)
  const r = await cli([...commands[0]!, '--out', out], { cwd: ROOT, timeoutMs: 120_000 })
  t.is(r.code, 0, r.stdout + r.stderr)
  const rep = report(out)
  t.is(rep.isolation.violations, 0)
  t.is(rep.users.completed, 1000)
  t.true((rep.metrics['isolation.probes{result:denied}']?.type === 'counter' ? rep.metrics['isolation.probes{result:denied}'].count : 0) > 0)
  const passwords = readFileSync(join(ROOT, 'examples/own-server/users.csv'), 'utf8').trim().split('\n').slice(1).map(l => l.split(',')[1]!)
  const printed = r.stdout + r.stderr + readFileSync(join(out, 'report.json'), 'utf8')
  t.false(passwords.some(p => printed.includes(p)))
})

test.serial('2. the planted shared cache: fails with foreign-data violations naming both users', async t => {
  const out = tempDir(t)
  const r = await cli([...commands[1]!, '--out', out], { cwd: ROOT, timeoutMs: 120_000 })
  t.is(r.code, 1, r.stderr)
  const rep = report(out)
  t.true((rep.isolation.byKind['foreign-data'] ?? 0) > 0, JSON.stringify(rep.isolation.byKind))
  t.regex(r.stdout, /foreign-data: user-\d+ got user-\d+'s data · GET \/notes body/)
})

test.serial('3. the planted audit log: a leak verdict', async t => {
  const out = tempDir(t)
  const r = await cli([...commands[2]!, '--out', out], { cwd: ROOT, timeoutMs: 120_000 })
  const rep = report(out)
  t.is(rep.leaks?.verdict, 'leak', rep.leaks?.reason)
  t.is(r.code, 1)
})

test.serial('4. --cpu-profile writes the server\'s profile of the load', async t => {
  const out = tempDir(t)
  const r = await cli([...commands[3]!, '--out', out], { cwd: ROOT, timeoutMs: 120_000 })
  t.is(r.code, 0, r.stderr)
  const profile = JSON.parse(readFileSync(join(out, 'target.cpuprofile'), 'utf8')) as { nodes: unknown[] }
  t.true(profile.nodes.length > 10)
})

test.serial('5. the ava example passes in an ava process of its own', async t => {
  t.true(existsSync(join(ROOT, 'examples/own-server/notes.test.mjs')))
  const ava = join(ROOT, 'node_modules/ava/entrypoints/cli.mjs')
  const res = await new Promise<{ code: number | null, text: string }>((resolve) => {
    const child = spawn(process.execPath, [ava, 'examples/own-server/notes.test.mjs', '--config', 'examples/own-server/ava.config.mjs'], { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { text += d })
    child.on('close', code => resolve({ code, text }))
  })
  t.is(res.code, 0, res.text)
  t.regex(res.text, /1 test passed/)
})
