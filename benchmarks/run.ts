// `npm run bench`: every speed and memory benchmark in turn, then benchmarks/RESULTS.md and
// results.json. The leak-detection study (10 runs per verdict figure, ~40 minutes) is its own
// command, `npm run bench:leaks` (BENCH_ONLY=leaks). Loopback only. BENCH_ROUNDS / BENCH_SECONDS
// shorten it; BENCH_ONLY=http|ws|io|leaks|scale|workers|peers|shards runs one and keeps the other
// sections of the previous results. Each section's wall time is kept in results.json (`minutes`)
// and shown in RESULTS.md, with the date it was measured.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { benchHttp } from './http.js'
import { benchWs } from './ws.js'
import { benchIo } from './io.js'
import { benchLeaks } from './leaks.js'
import { benchScale } from './scale.js'
import { benchWorkers } from './workers.js'
import { benchPeers } from './peers.js'
import { benchShards } from './shards.js'
import { ROUNDS, SECONDS, here } from './lib.js'

const fmtMinutes = (m: number): string => m.toFixed(1)

type Section = 'http' | 'ws' | 'io' | 'leaks' | 'scale' | 'workers' | 'peers' | 'shards'
/** `inDefault`: run by a plain `npm run bench` (the leak study is `npm run bench:leaks`) */
const SECTIONS: Record<Section, { run: () => Promise<{ results: Record<string, unknown>, markdown: string }>, headings: string[], inDefault: boolean }> = {
  http: { run: benchHttp, headings: ['## HTTP', '## Isolation scanning'], inDefault: true },
  ws: { run: benchWs, headings: ['## WebSocket'], inDefault: true },
  io: { run: benchIo, headings: ['## Socket.IO'], inDefault: true },
  leaks: { run: benchLeaks, headings: ['## Leak detection'], inDefault: false },
  scale: { run: benchScale, headings: ['## Scale'], inDefault: true },
  workers: { run: benchWorkers, headings: ['## Worker scaling'], inDefault: true },
  peers: { run: benchPeers, headings: ['## Peers'], inDefault: true },
  shards: { run: benchShards, headings: ['## Shards'], inDefault: true }
}

// A '### ' subsection whose first line after its heading is HAND_WRITTEN is a note written by hand
// (what was cut and why, with its own measurements): a rerun of its section keeps it, after the
// fresh tables, in the block of the same section heading.
const HAND_WRITTEN = '<!-- hand-written: kept when npm run bench regenerates this section -->'
function withHandWrittenNotes (fresh: string, previous: string[], headings: string[]): string {
  const heading = headings.find(h => fresh.startsWith(h))
  const old = heading === undefined ? undefined : previous.find(b => b.startsWith(heading))
  if (old === undefined) return fresh
  const notes = old.split(/^(?=### )/m).filter(s => s.startsWith('### ') && s.split('\n')[1]?.trim() === HAND_WRITTEN)
  return notes.length === 0 ? fresh : `${fresh.trimEnd()}\n\n${notes.map(n => n.trimEnd()).join('\n\n')}\n`
}

const only = process.env.BENCH_ONLY as Section | undefined
if (only !== undefined && !(only in SECTIONS)) throw new Error(`BENCH_ONLY must be one of ${Object.keys(SECTIONS).join(', ')}`)
const outDir = here('../../benchmarks/')
const machine = `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
const date = new Date().toISOString()

const previousJson = existsSync(`${outDir}results.json`) ? JSON.parse(readFileSync(`${outDir}results.json`, 'utf8')) as Record<string, unknown> : {}
// the previous RESULTS.md, cut into its '## ' sections
const previousBlocks = existsSync(`${outDir}RESULTS.md`)
  ? readFileSync(`${outDir}RESULTS.md`, 'utf8').split(/^(?=## )/m).filter(b => b.startsWith('## '))
  : []

const results: Record<string, unknown> = { ...previousJson, date, machine, rounds: ROUNDS, secondsPerRun: SECONDS }
/** each section's wall time in minutes and when it was measured, kept across partial runs */
const minutes = { ...(previousJson.minutes as Record<string, { minutes: number, date: string }> | undefined) }
const started = performance.now()
let blocks = previousBlocks
for (const name of Object.keys(SECTIONS) as Section[]) {
  if (only === undefined ? !SECTIONS[name].inDefault : only !== name) continue
  const sectionStarted = performance.now()
  const { results: r, markdown } = await SECTIONS[name].run()
  minutes[name] = { minutes: Math.round((performance.now() - sectionStarted) / 6000) / 10, date: date.slice(0, 16).replace('T', ' ') }
  process.stderr.write(`bench: ${name} took ${minutes[name].minutes} min\n`)
  results[name] = r
  const replaced = blocks.filter(b => SECTIONS[name].headings.some(h => b.startsWith(h)))
  blocks = blocks.filter(b => !replaced.includes(b))
  const fresh = markdown.split(/^(?=## )/m).filter(b => b.startsWith('## '))
  blocks.push(...fresh.map(b => withHandWrittenNotes(b, replaced, SECTIONS[name].headings)))
}
const order = (b: string): number => (Object.values(SECTIONS).flatMap(s => s.headings)).findIndex(h => b.startsWith(h))
blocks.sort((a, b) => order(a) - order(b))
results.minutes = minutes
if (only === undefined) results.defaultRunMinutes = Math.round((performance.now() - started) / 6000) / 10

const defaultSections = (Object.keys(SECTIONS) as Section[]).filter(n => SECTIONS[n].inDefault)
const sumOfDefault = defaultSections.reduce((sum, n) => sum + (minutes[n]?.minutes ?? 0), 0)
const timeBlock = `## Time per section

Wall time of each section in its last run (\`npm run bench\` runs all but the leak study, which is
\`npm run bench:leaks\`). Setup (installing Artillery on the first run) is not included.

| section | minutes | measured (UTC) |
|---|---|---|
${(Object.keys(SECTIONS) as Section[]).map(n => `| ${n}${SECTIONS[n].inDefault ? '' : ' (`npm run bench:leaks`)'} | ${minutes[n]?.minutes ?? 'not run'} | ${minutes[n]?.date ?? ''} |`).join('\n')}

\`npm run bench\`: ${fmtMinutes(sumOfDefault)} minutes as the sum of its sections${typeof results.defaultRunMinutes === 'number' ? `; the last full run took ${fmtMinutes(results.defaultRunMinutes)} minutes` : ''}.
`
blocks = [...blocks.filter(b => !b.startsWith('## Time per section')), timeBlock]

const md = `# Benchmarks

Generated by \`npm run bench\` (last run ${date.slice(0, 10)}). Machine: ${machine}.
Each figure is the median of the rounds with the range (min–max) in parentheses. Within a round
the contenders run back to back in alternating order against the same fixture process
(\`fixtures/child.js\`); each client runs in its own process and its CPU (user + system, all
threads) is read with \`process.cpuUsage()\`.

${blocks.map(b => b.trimEnd()).join('\n\n')}
`
writeFileSync(`${outDir}results.json`, JSON.stringify(results, null, 2) + '\n')
writeFileSync(`${outDir}RESULTS.md`, md)
process.stdout.write(md)
