// Heap diffs between GC cycles: what a leaking server kept, by class, with the retainer path
// that keeps it. The fixture's planted leaks are each named with a path through their container
// (listener array, Map, timer list); a session store in a child process is found through its
// `sessions` Map and its twin without the leak keeps nothing of the kind; memwatch diffs a server
// in this very process; a machine without the memory for the analysis gets a note, not a diff.
import test from 'ava'
import { randomBytes } from 'node:crypto'
import { readdirSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatSummary, run, type RunResult } from '../engine/index.js'
import { inProcessBackend } from '../engine/leaks/index.js'
import { HeapDiffRecorder } from '../engine/leaks/diff-recorder.js'
import type { HeapDiffGroup } from '../engine/result/index.js'
import { tempDir, writeScenario } from './support.js'

const diffDirs = (): string[] => readdirSync(tmpdir()).filter(d => d.startsWith('crosstalk-heapdiff-'))

function groups (r: RunResult): HeapDiffGroup[] {
  return r.leaks?.diff?.groups ?? []
}

function describe (r: RunResult): string {
  const d = r.leaks?.diff
  return `${r.leaks?.verdict}: ${r.leaks?.reason}\n${d === undefined ? 'no diff' : `${d.note ?? ''}\n${d.groups.map(g => `${g.name} x${g.count} ${g.perKOps} B/1K ops: ${(g.retainerPath ?? []).join(' -> ')}`).join('\n')}`}`
}

// 50 users x 200 soak iterations (~20000 requests, ~14000 of them plant each leak) with a reading
// due every 300 (each holds the load for its GC, so ~25-35 come): enough readings for a verdict
// on a busy machine, and small heaps for quick snapshots
test('the planted leaks are flagged and the diff names each leaking class and closure with a path through its container', async t => {
  const before = new Set(diffDirs())
  const r = await run({
    scenario: 'soak',
    users: 50,
    iterations: 200,
    workers: 1,
    fixture: { leaks: ['listener-leak', 'map-leak', 'timer-closure-leak'], process: 'child' },
    leaks: { everyOps: 300 } // leaks.diff defaults to 'auto': a diff because a leak is flagged
  })
  t.is(r.leaks?.verdict, 'leak', describe(r))
  t.is(r.leaks?.diff?.backend, 'snapshots')
  const expected: Array<[string, RegExp]> = [
    // the listener array on the long-lived emitter
    ['LeakedListenerContext', /LeakyRequestBus\._events -> Object\.request -> Array\[\d+\] -> leakedRequestListener\(\)::context -> LeakedListenerContext$/],
    ['leakedRequestListener()', /LeakyRequestBus\._events -> Object\.request -> Array\[\d+\] -> leakedRequestListener\(\)$/],
    // the never-pruned Map
    ['LeakedRequestRecord', /PlantedLeaks\.records -> Map\[entry\] -> LeakedRequestRecord$/],
    // the pending timers, each one's closure holding its job: the shortest path runs through
    // the fixture's Set of timers or Node's own timer list, whichever the walk reaches first
    ['LeakedTimerJob', /(PlantedLeaks\.timers -> Set\[entry\]|TimersList\._idle(Next|Prev).*) -> Timeout\._onTimeout -> leakedTimerCallback\(\)::job -> LeakedTimerJob$/],
    ['leakedTimerCallback()', /Timeout\._onTimeout -> leakedTimerCallback\(\)$/]
  ]
  for (const [name, path] of expected) {
    const g = groups(r).find(x => x.name === name)
    t.truthy(g, `${name} in the diff\n${describe(r)}`)
    // ~7000 requests planted one each; between baseline and target, most of them
    t.true((g?.count ?? 0) > 1000, `${name} x${g?.count}`)
    t.true((g?.perKOps ?? 0) >= 1000 * 32, `${name}: ${g?.perKOps} B per 1K ops`) // >= 32 B a request
    t.regex(g?.retainerPath?.join(' -> ') ?? '', path, describe(r))
  }
  const summary = formatSummary(r)
  t.regex(summary, /heap diff \(snapshots\): kept objects by class/)
  t.regex(summary, / -> .*\n/)
  t.deepEqual(diffDirs().filter(d => !before.has(d)), [], 'the snapshots\' temp directory is removed')
  t.log(`${r.leaks?.samples.length} readings; snapshots paused the target ${r.leaks?.diff?.pauseMs} ms, analysis ${r.leaks?.diff?.analysisMs} ms`)
})

/**
 * A per-visitor session store, the classic framework leak: every request without a cookie is a
 * new visitor whose session (~150 B with its key and Map slot) is kept forever. `--no-leak`
 * deletes the session when the response is done.
 */
const SESSION_SERVER = `import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
const leak = !process.argv.includes('--no-leak')
const sessions = new Map()
const server = createServer((req, res) => {
  const sid = randomBytes(8).toString('hex')
  sessions.set(sid, { visits: 1, at: Date.now(), path: req.url })
  if (!leak) res.on('finish', () => sessions.delete(sid))
  res.setHeader('set-cookie', 'sid=' + sid)
  res.end(JSON.stringify({ sessions: sessions.size }))
})
server.listen(Number(process.env.PORT), process.env.HOST)
`

function sessionRun (t: { teardown: (fn: () => void) => void }, args: string): Promise<RunResult> {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'server.mjs'), SESSION_SERVER)
  const scenario = writeScenario(dir, 'visit.mjs', `export default defineScenario({
    name: 'visit',
    async iteration (user) {
      const r = await user.http.get('/', { name: 'visit' })
      user.check(r.status === 200, 'ok')
    }
  })`)
  // 10 users x 400 visits = 4000 requests, a reading every 200; 'always': the diff whatever the verdict
  return run({ scenario, target: `cmd:node ${join(dir, 'server.mjs')} ${args}`, users: 10, iterations: 400, workers: 1, leaks: { everyOps: 200, diff: 'always' } })
}

test('a session store in a cmd: server: the diff\'s retainer path names the store', async t => {
  const r = await sessionRun(t, `ct-${randomBytes(4).toString('hex')}`)
  const kept = groups(r).filter(g => g.retainerPath?.some(s => s.includes('::sessions')) === true)
  t.true(kept.length > 0, describe(r))
  const session = kept.find(g => g.name === 'Object')
  t.truthy(session, describe(r))
  t.regex(session?.retainerPath?.join(' -> ') ?? '', /\(\)::sessions -> Map\["[0-9a-f]{16}"\] -> Object$/)
  t.true((session?.count ?? 0) > 1000, `${session?.count} sessions`)
  const perRequest = kept.reduce((s, g) => s + g.perKOps, 0) / 1000
  t.true(perRequest > 75 && perRequest < 400, `${perRequest} B per request kept through sessions`)
  t.log(`${r.leaks?.verdict} (${r.leaks?.reason}); ${perRequest.toFixed(0)} B per request through the store; ${r.leaks?.diff?.pauseMs} ms of snapshots`)
})

test('its twin that deletes each session keeps nothing through the store', async t => {
  const r = await sessionRun(t, `--no-leak ct-${randomBytes(4).toString('hex')}`)
  t.is(r.leaks?.diff?.backend, 'snapshots', describe(r))
  t.deepEqual(groups(r).filter(g => g.retainerPath?.some(s => s.includes('::sessions')) === true && g.count > 10), [], describe(r))
  const kept = groups(r).reduce((s, g) => s + g.perKOps, 0) / 1000
  t.true(kept < 32, `${kept} B per request kept in all`) // below the leak floor
})

/** A server in the test's own process (as an ava test that starts its app would), leaking VisitorSession objects. */
class VisitorSession {
  constructor (readonly sid: string, readonly at: number, readonly path: string) {}
}

test('memwatch diffs a server in this process: backend memwatch, the kept class counted', async t => {
  const sessions = new Map<string, VisitorSession>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const sid = randomBytes(8).toString('hex')
    sessions.set(sid, new VisitorSession(sid, Date.now(), req.url ?? '/'))
    res.end('{}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'visit.mjs', `export default defineScenario({
    name: 'visit',
    async iteration (user) { await user.http.get('/', { name: 'visit' }) }
  })`)
  const r = await run({ scenario, target: `http://127.0.0.1:${port}/`, users: 10, iterations: 200, workers: 1, leaks: { backend: 'memwatch', everyOps: 300, diff: 'always' } })
  t.is(r.leaks?.backend, 'memwatch', r.leaks?.note)
  t.is(r.leaks?.diff?.backend, 'memwatch')
  const g = groups(r).find(x => x.name === 'VisitorSession')
  t.truthy(g, describe(r))
  // 2000 requests; the baseline is after the 2nd reading (600-1200 in: quiet readings hold the
  // load, and the op count arrives in ticks), the end after all of them
  t.true((g?.count ?? 0) > 500 && (g?.count ?? 0) <= sessions.size, `${g?.count} of ${sessions.size}`)
  t.true((g?.perKOps ?? 0) > 0)
  t.is(g?.retainerPath, undefined) // memwatch names classes, not paths
  t.regex(formatSummary(r), /heap diff \(memwatch\): kept objects by class, from the baseline to the end/)
})

test('a machine without ~8x the heap free skips the diff with a note; \'auto\' without a leak gives none', async t => {
  const backend = inProcessBackend()
  t.teardown(() => backend.close())
  const poor = new HeapDiffRecorder(backend, { when: 'always', plannedLoadMs: null, freeBytes: () => 2 ** 20 })
  await poor.afterReading(0, 0, 0, 50 * 2 ** 20)
  await poor.afterReading(1, 1000, 100, 50 * 2 ** 20)
  t.is(poor.state, 'skipped')
  const diff = await poor.finish(true, 5000, 50 * 2 ** 20)
  t.like(diff, { backend: 'snapshots', groups: [] })
  t.regex(diff?.note ?? '', /^heap diff skipped: analysing a 50 MB heap needs ~400 MB \(8x\) and 1 MB are free$/)
  const auto = new HeapDiffRecorder(backend, { when: 'auto', plannedLoadMs: null, freeBytes: () => 2 ** 20 })
  await auto.afterReading(1, 1000, 100, 50 * 2 ** 20)
  t.is(await auto.finish(false, 5000, 50 * 2 ** 20), undefined)
})
