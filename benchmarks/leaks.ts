// Leak detection at 1000 users (issue 15): verdicts on the clean fixture and its bounded cache;
// detection rate and operations to flag on a session-store server that keeps ~150 B per request,
// and verdicts on its twin without the leak; the throughput cost of quiet readings; the time and
// memory of a heap diff on a ~100 MB heap. Every run is crosstalk's run() in its own process
// (benchmarks/clients/leak-client.ts). BENCH_LEAK_RUNS (default 10) runs per verdict figure,
// BENCH_LEAK_TP_ROUNDS (default 3) rounds of the throughput comparison; BENCH_LEAK_PARTS (a
// comma list of fixture, leaky, twin, throughput, bigHeap) runs some parts only.
import { analyzeHeapTrend } from '../engine/leaks/trend.js'
import type { HeapDiffGroup, LeakReport } from '../engine/result/index.js'
import { fmt, loadAverage, loadNote, log, pairedRatio, runClient, show, stat, type Stat } from './lib.js'

const RUNS = Number(process.env.BENCH_LEAK_RUNS ?? 10)
const TP_ROUNDS = Number(process.env.BENCH_LEAK_TP_ROUNDS ?? 3)
const USERS = 1000
const FIXTURE_S = Number(process.env.BENCH_LEAK_FIXTURE_SECONDS ?? 30)
const SERVER_S = 40
const TP_S = 20
const BALLAST_MB = 95

interface Job { fixture?: string[], server?: string, users: number, seconds: number, readings?: 'quiet' | 'under-load' | 'off', diff?: 'auto' | 'always' | 'off' }
interface Outcome { leaks: LeakReport | null, rps: number, steadySeconds: number, requests: number, maxRssMb: number }
type Verdicts = Record<string, number>

const runJob = (job: Job, timeoutS = job.seconds + 240): Outcome => runClient<Outcome>('./clients/leak-client.js', [JSON.stringify(job)], [], timeoutS)
const tally = (): Verdicts => ({ leak: 0, 'no-leak': 0, inconclusive: 0 })
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`
const line = (l: LeakReport): string => `${l.verdict} (${l.reason}; ${l.samples.length} readings, ${l.readings.cadence})`

/** The first reading at which the verdict on the readings so far is 'leak': a replay on prefixes. */
function opsToFlag (l: LeakReport): number | undefined {
  for (let k = 3; k <= l.samples.length; k++) {
    if (analyzeHeapTrend(l.samples.slice(0, k), { floorBytesPerOp: 32 }).verdict === 'leak') return l.samples[k - 1]!.ops
  }
  return undefined
}

const storeGroups = (l: LeakReport): HeapDiffGroup[] => (l.diff?.groups ?? []).filter(g => g.retainerPath?.some(s => s.includes('sessions')) === true)

interface VerdictSet { verdicts: Verdicts, odd: string[], readings: number[], noiseKb: number[] }

/** N runs of one job; the verdict count, and the reason line of every run that is not `expected`. */
function verdictRuns (label: string, job: Job, expected: string, each?: (l: LeakReport) => void): VerdictSet {
  const set: VerdictSet = { verdicts: tally(), odd: [], readings: [], noiseKb: [] }
  for (let i = 1; i <= RUNS; i++) {
    const l = runJob(job).leaks!
    set.verdicts[l.verdict] = (set.verdicts[l.verdict] ?? 0) + 1
    set.readings.push(l.samples.length)
    set.noiseKb.push(l.figures.noiseBytes / 1024)
    if (l.verdict !== expected) set.odd.push(`run ${i}: ${line(l)}`)
    each?.(l)
    log(`leaks ${label} ${i}/${RUNS}: ${line(l)}`)
  }
  return set
}

const counts = (v: Verdicts): string => `${v['no-leak']} no-leak, ${v.leak} leak, ${v.inconclusive} inconclusive`
const oddLines = (s: VerdictSet): string => s.odd.length === 0 ? '' : `\n${s.odd.map(o => `  - ${o}`).join('\n')}`

function fixtureSection (): { results: Record<string, unknown>, markdown: string } {
  const clean = verdictRuns('clean fixture', { fixture: [], users: USERS, seconds: FIXTURE_S }, 'no-leak')
  const bounded = verdictRuns('bounded cache', { fixture: ['bounded-cache'], users: USERS, seconds: FIXTURE_S }, 'no-leak')
  const markdown = `### False positives: the fixture at ${USERS} users (soak scenario, quiet readings, default cadence, ${FIXTURE_S} s runs)

| fixture | runs | verdicts | 'leak' (false positives) | readings per run | reading noise (KB) |
|---|---|---|---|---|---|
| clean | ${RUNS} | ${counts(clean.verdicts)} | **${clean.verdicts.leak} of ${RUNS}** | ${show(stat(clean.readings), 0)} | ${show(stat(clean.noiseKb), 0)} |
| \`--fixture-leak bounded-cache\` (fills to 8000 entries, then stops) | ${RUNS} | ${counts(bounded.verdicts)} | **${bounded.verdicts.leak} of ${RUNS}** | ${show(stat(bounded.readings), 0)} | ${show(stat(bounded.noiseKb), 0)} |
${clean.odd.length + bounded.odd.length > 0 ? '\nRuns that were not no-leak, with their reason line:' : ''}${oddLines(clean)}${oddLines(bounded)}
`
  return { results: { clean: clean.verdicts, boundedCache: bounded.verdicts, cleanOdd: clean.odd, boundedOdd: bounded.odd }, markdown }
}

const want = (part: string): boolean => process.env.BENCH_LEAK_PARTS === undefined || process.env.BENCH_LEAK_PARTS.split(',').includes(part)

/** The top groups of a diff by bytes, each with its dominant retainer path. */
const describeDiff = (l: LeakReport, top = 3): string[] => (l.diff?.groups ?? []).slice(0, top).map(g => `${g.name} x${fmt(g.count, 0)}, ${fmt(g.perKOps, 0)} B per 1K ops: \`${(g.retainerPath ?? ['(no path)']).join(' -> ')}\``)

function serverSection (): { results: Record<string, unknown>, markdown: string } {
  const flagged: number[] = []
  const slopes: number[] = []
  const viaStore: number[] = []
  let diffs = 0
  let firstDiff: string[] = []
  const leaky = !want('leaky')
    ? undefined
    : verdictRuns('session store', { server: '', users: USERS, seconds: SERVER_S }, 'leak', (l) => {
      const at = opsToFlag(l)
      if (at !== undefined) flagged.push(at)
      slopes.push(l.bytesPerOp)
      if (l.diff !== undefined && l.diff.groups.length > 0) diffs++
      viaStore.push(storeGroups(l).reduce((s, g) => s + g.perKOps, 0) / 1000)
      if (firstDiff.length === 0) firstDiff = describeDiff(l)
      log(`  ops to flag ${at ?? 'never'}; diff: ${l.diff?.note ?? ''} ${fmt(viaStore.at(-1)!, 0)} B/request in groups whose path runs through the store\n  ${describeDiff(l).join('\n  ')}`)
    })
  const twin = want('twin') ? verdictRuns('session store twin (no leak)', { server: '--no-leak', users: USERS, seconds: SERVER_S }, 'no-leak') : undefined
  const ops = flagged.length > 0 ? stat(flagged) : undefined
  const markdown = `### Detection: a session store at ${USERS} users (\`benchmarks/clients/session-server.ts\`, a \`cmd:\` target, ${SERVER_S} s runs, quiet readings, default cadence)

The leaky server keeps one serialized session per request in a MemoryStore-like \`sessions\` object (the
cookie is never read back); its twin reads the cookie, so the store holds one entry per user.

| server | runs | verdicts | measured slope (B/op) | readings per run |
|---|---|---|---|---|
${leaky === undefined ? '' : `| leaky | ${RUNS} | ${counts(leaky.verdicts)}: **flagged in ${leaky.verdicts.leak} of ${RUNS}** | ${show(stat(slopes), 0)} | ${show(stat(leaky.readings), 0)} |\n`}${twin === undefined ? '' : `| twin without the leak | ${RUNS} | **${counts(twin.verdicts)}** | | ${show(stat(twin.readings), 0)} |\n`}
Operations to flag (the first reading at which the verdict on the readings so far is 'leak', a replay
of \`analyzeHeapTrend\` on prefixes of each run's readings): **${ops === undefined ? 'never' : `${show(ops, 0)} operations`}** over the ${flagged.length} runs that reached it.
Heap diff (auto: taken when the run looks like a leak): ${diffs} of ${leaky === undefined ? 0 : RUNS} leaky runs have one; bytes per request in groups whose
retainer path runs through \`sessions\`: ${viaStore.length === 0 ? 'n/a' : show(stat(viaStore), 0)}. Top groups of the first diff:
${firstDiff.map(d => `- ${d}`).join('\n')}
${(leaky?.odd.length ?? 0) + (twin?.odd.length ?? 0) > 0 ? '\nRuns with another verdict, with their reason line:' : ''}${leaky === undefined ? '' : oddLines(leaky)}${twin === undefined ? '' : oddLines(twin)}
`
  return { results: { leaky: leaky?.verdicts ?? null, twin: twin?.verdicts ?? null, opsToFlag: ops ?? null, flaggedRuns: flagged.length, slopes: slopes.length > 0 ? stat(slopes) : null, viaStore, firstDiff, odd: [...(leaky?.odd ?? []), ...(twin?.odd ?? [])] }, markdown }
}

function throughputSection (): { results: Record<string, unknown>, markdown: string } {
  const modes = ['quiet', 'under-load', 'off'] as const
  const rps: Record<string, number[]> = { quiet: [], 'under-load': [], off: [] }
  const cost: number[] = []
  const held: number[] = []
  const readingsOf: Record<string, number[]> = { quiet: [], 'under-load': [] }
  for (let round = 1; round <= TP_ROUNDS; round++) {
    const order = round % 2 === 1 ? modes : [...modes].reverse()
    for (const readings of order) {
      const o = runJob({ fixture: [], users: USERS, seconds: TP_S, readings, diff: 'off' })
      rps[readings]!.push(o.rps)
      if (readings === 'quiet' && o.leaks !== null) { cost.push(o.leaks.readings.throughputCost); held.push(o.leaks.readings.heldShare) }
      if (o.leaks !== null) readingsOf[readings]!.push(o.leaks.samples.length)
      log(`leaks throughput round ${round}/${TP_ROUNDS} ${readings}: ${fmt(o.rps, 0)} req/s${o.leaks === null ? '' : `, held ${pct(o.leaks.readings.heldShare)}, cost ${pct(o.leaks.readings.throughputCost)}, ${o.leaks.samples.length} readings`}`)
    }
  }
  const r = (m: string): Stat => stat(rps[m]!)
  const quietVsUnder = pairedRatio(rps.quiet!, rps['under-load']!)
  const quietVsOff = pairedRatio(rps.quiet!, rps.off!)
  const underVsOff = pairedRatio(rps['under-load']!, rps.off!)
  // seconds of the no-leaks rate each reading cost, paired by round: (off - mode) / off x load / readings
  const perReading = (m: 'quiet' | 'under-load'): Stat => stat(rps[m]!.map((v, i) => (1 - v / rps.off![i]!) * TP_S / Math.max(1, readingsOf[m]![i]!) * 1000))
  const markdown = `### Throughput cost of quiet readings (clean fixture, soak scenario, ${USERS} users, ${TP_S} s runs, ${TP_ROUNDS} rounds in alternating order, no heap diff)

| readings | requests/s (steady window) | vs no --leaks (paired by round) |
|---|---|---|
| \`--leak-readings quiet\` | ${show(r('quiet'), 0)} | ${show(quietVsOff, 3)} |
| \`--leak-readings under-load\` | ${show(r('under-load'), 0)} | ${show(underVsOff, 3)} |
| no \`--leaks\` | ${show(r('off'), 0)} | 1 |

Quiet / under-load, paired by round: **${show(quietVsUnder, 3)}**. The quiet runs' own accounting:
\`leaks.readings.throughputCost\` (time with nothing in flight / load time) **${show(stat(cost.map(c => c * 100)), 1)}%**,
\`heldShare\` (time new iterations were held / load time) ${show(stat(held.map(c => c * 100)), 1)}%.
Readings per run: quiet ${show(stat(readingsOf.quiet!), 0)}, under load ${show(stat(readingsOf['under-load']!), 0)}; throughput lost per
reading (the no-leaks rate's ms, paired by round): quiet ${show(perReading('quiet'), 0)} ms, under load ${show(perReading('under-load'), 0)} ms.
`
  return { results: { rps: { quiet: r('quiet'), underLoad: r('under-load'), off: r('off') }, quietVsUnderLoad: quietVsUnder, quietVsOff, underLoadVsOff: underVsOff, throughputCost: stat(cost), heldShare: stat(held), readings: { quiet: stat(readingsOf.quiet!), underLoad: stat(readingsOf['under-load']!) }, lostMsPerReading: { quiet: perReading('quiet'), underLoad: perReading('under-load') } }, markdown }
}

function bigHeapSection (): { results: Record<string, unknown>, markdown: string } {
  const o = runJob({ server: `--ballast-mb ${BALLAST_MB}`, users: 200, seconds: 40, diff: 'always' }, 900)
  const l = o.leaks!
  const d = l.diff
  const snapshots = 3
  const figures = { readings: l.samples.length, peakHeapMb: l.figures.peakBytes / 2 ** 20, pauseMs: d?.pauseMs ?? null, perSnapshotMs: d?.pauseMs === undefined ? null : d.pauseMs / snapshots, analysisMs: d?.analysisMs ?? null, maxRssMb: o.maxRssMb, note: d?.note ?? null, groups: d?.groups.length ?? 0 }
  log(`leaks 100 MB heap diff: ${JSON.stringify(figures)}`)
  const markdown = `### Heap diff on a ~100 MB heap (session server with ${BALLAST_MB} MB of small live objects allocated at start, 200 users, 40 s, \`leaks.diff: 'always'\`)

| figure | result |
|---|---|
| target's peak used heap after a forced GC | ${fmt(figures.peakHeapMb, 0)} MB |
| target paused by the 3 snapshots (baseline, target, final) | ${figures.pauseMs === null ? 'n/a' : `${fmt(figures.pauseMs / 1000, 1)} s in all, ${fmt(figures.perSnapshotMs! / 1000, 1)} s per snapshot`} |
| analysis (parse, diff by id, retainer paths of the top groups) | ${figures.analysisMs === null ? 'n/a' : `${fmt(figures.analysisMs / 1000, 1)} s`} |
| peak RSS of the crosstalk process (its load workers and the analysis) | ${fmt(o.maxRssMb, 0)} MB |
| groups in the diff | ${figures.groups}${figures.note === null ? '' : ` (note: ${figures.note})`} |

One run, not a distribution.
`
  return { results: figures, markdown }
}

export function benchLeaks (): Promise<{ results: Record<string, unknown>, markdown: string }> {
  const before = loadAverage()
  const loads: number[] = [before]
  const sections: Array<[string, () => { results: Record<string, unknown>, markdown: string }]> = [
    ['fixture', fixtureSection], ['server', serverSection], ['throughput', throughputSection], ['bigHeap', bigHeapSection]
  ]
  const results: Record<string, unknown> = { runs: RUNS, users: USERS }
  const parts: string[] = []
  for (const [name, section] of sections) {
    if (name === 'server' ? !want('leaky') && !want('twin') : !want(name)) continue
    let s: { results: Record<string, unknown>, markdown: string }
    try {
      s = section()
    } catch (err) {
      // one failed part (a run past its timeout) costs that part's figures, not the others'
      s = { results: { error: (err as Error).message }, markdown: `### ${name}: failed\n\n${(err as Error).message.split('\n')[0]}\n` }
    }
    results[name] = s.results
    parts.push(s.markdown)
    log(s.markdown)
    loads.push(loadAverage())
  }
  const after = loadAverage()
  results.loadAverages = loads
  const markdown = `## Leak detection at ${USERS} users (issue 15: quiet readings, verdict rules, heap diffs)

${RUNS} runs per verdict figure${RUNS < 10 ? ` (fewer than the 10 the issue asks for: the time box of this run; \`BENCH_LEAK_RUNS=10\` for the full count)` : ''}. Each run is
crosstalk's \`run()\` in its own process with 2 worker threads; the target is inspected over its
remote inspector (the fixture in its own process, the session server started as a \`cmd:\` target).

${parts.join('\n')}
1-minute load average at the start and after each part: ${loads.map(v => fmt(v, 2)).join(', ')}.
${loadNote(before, after)} The verdicts depend on the readings' noise, which the shared machine raises.
`
  return Promise.resolve({ results, markdown })
}
