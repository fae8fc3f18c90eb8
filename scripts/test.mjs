// `npm test`: ava in two lanes at once. Most of the suite drives 1000 users and needs the two cores
// to itself, one file at a time (ava.config.js). A few files mostly wait - compare's 20-user rounds
// against 500 ms fixtures, a stuck worker waiting for the watchdog, plans and tags of a few users
// whose counts are exact, the executors' and outages' timed stages of at most a few hundred light
// users, timeouts and signals to runs of 2-20 users, the live outputs' and reports' short CLI runs,
// the coordinator's timeouts, the manifests' CLI calls - and run beside it in a second ava
// process, followed by a few short files that assert counts and shapes; their output is printed
// after the first lane's, then each lane's wall time.
// With file arguments (`npm test -- dist/test/units.test.js`) it is plain ava.
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const WAITING_LANE = [
  'compare', 'reliability-watchdog', 'reliability-measured', 'reliability-signals', 'plans', 'tags', 'custom-metrics', 'executors', 'outages', 'outputs', 'report-cli', 'junit', 'coordinator', 'k8s',
  // then short files whose assertions are counts and shapes, not rates (the first lane's last
  // ~5 minutes would otherwise run alone)
  'probe-semantics', 'users-file', 'run-setup', 'io-scan', 'scenarios/items', 'scenarios/isolation', 'scenarios/events', 'streams', 'socketio', 'report-html'
].map(f => `dist/test/${f}.test.js`)

const args = process.argv.slice(2)
const ava = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url))

function runAva (files, output) {
  const child = spawn(process.execPath, [ava, ...files, ...args], { stdio: ['ignore', output, output] })
  const chunks = []
  if (output === 'pipe') {
    child.stdout.on('data', c => chunks.push(c))
    child.stderr.on('data', c => chunks.push(c))
  }
  return new Promise(resolve => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), text: Buffer.concat(chunks).toString() }))
  })
}

if (args.some(a => !a.startsWith('-'))) {
  const { code } = await runAva([], 'inherit')
  process.exit(code)
}

const all = readdirSync('dist/test', { recursive: true })
  .map(f => `dist/test/${String(f)}`)
  .filter(f => f.endsWith('.test.js'))
const busy = all.filter(f => !WAITING_LANE.includes(f)).sort()
const waiting = WAITING_LANE.filter(f => all.includes(f))
const started = performance.now()
const seconds = () => ((performance.now() - started) / 1000).toFixed(0)
let secondS = ''
const second = runAva(waiting, 'pipe').then(r => { secondS = seconds(); return r })
const first = await runAva(busy, 'inherit')
const firstS = seconds()
const waited = await second
process.stdout.write(waited.text)
// a TAP comment: the CI's count of `ok` lines does not see it
process.stdout.write(`# lanes: ${busy.length} files in ${firstS} s, ${waiting.length} beside them in ${secondS} s\n`)
process.exit(first.code !== 0 ? first.code : waited.code)
