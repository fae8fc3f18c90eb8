// junit.xml: a run as test results for CI's test tab (Jenkins, GitLab, GitHub test reporters).
// One testsuite per run; a testcase per threshold, per check, per isolation violation kind, for
// the leak verdict (when leaks ran), for lost users, for errors, and one for the run itself (what
// fails it that no other case covers). Names stay the same from run to run, so CI can track them;
// a failure carries its evidence line. The shape is the Ant JUnit format's strict form: properties,
// system-out and system-err always present, at most one failure or skipped per testcase.
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { VIOLATION_KINDS, type RunResult } from '../result/index.js'
import { redact, redactUrl, writeFileAtomic } from '../shared/index.js'
import { outageLines } from './outage-lines.js'
import { checkFailureLine, errorCause } from './terminal-summary.js'

export const JUNIT_REPORT_FILE = 'junit.xml'

interface TestCase {
  classname: string
  name: string
  failure?: { type: string, message: string, evidence: string }
  skipped?: string
}

/** Text safe in XML content and attribute values (characters XML 1.0 cannot hold are dropped). */
export function xmlText (s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

function num (v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 })
}

function thresholdCases (r: RunResult): TestCase[] {
  return r.thresholds.map(th => {
    const c: TestCase = { classname: 'crosstalk.thresholds', name: `${th.metric}: ${th.expression}` }
    const value = th.value === null ? 'no data' : num(th.value)
    // a breakpoint run's thresholds mark where the target broke: they do not fail it
    if (r.breakpoint !== undefined && !th.passed) c.skipped = `breakpoint run: crossed at ${value}, which marks where the target broke`
    else if (!th.passed) c.failure = { type: 'threshold', message: `${th.metric} ${th.expression} failed (${value})`, evidence: `${th.metric}: ${th.expression} measured ${value}${th.default === true ? ' (crosstalk\'s default budget: a threshold of your own on this metric replaces it)' : ''}` }
    return c
  })
}

function checkCases (r: RunResult): TestCase[] {
  const prefix = 'checks{check:'
  return Object.entries(r.metrics).flatMap(([key, m]) => {
    if (!key.startsWith(prefix) || m.type !== 'rate') return []
    const name = key.slice(prefix.length, -1)
    const c: TestCase = { classname: 'crosstalk.checks', name }
    if (m.fails > 0) {
      const first = r.checkFailures.find(f => f.check === name)
      c.failure = { type: 'check', message: `'${name}' failed ${num(m.fails)} of ${num(m.passes + m.fails)}`, evidence: first === undefined ? `${num(m.fails)} failed, ${num(m.passes)} passed` : checkFailureLine(first) }
    }
    return [c]
  })
}

function isolationCases (r: RunResult): TestCase[] {
  const iso = r.isolation
  return VIOLATION_KINDS.map(kind => {
    const c: TestCase = { classname: 'crosstalk.isolation', name: kind }
    const n = iso.byKind[kind] ?? 0
    if (n > 0) {
      const samples = iso.samples.filter(v => v.kind === kind).slice(0, 5).map(v => {
        const where = v.where.channel !== undefined ? `ws ${v.where.channel}` : `${v.where.method ?? ''} ${v.where.path ?? ''}`.trim()
        return `${v.user} got ${v.owner}'s data · ${where} ${v.where.part} · ${v.excerpt}`
      })
      c.failure = { type: 'isolation', message: `${num(n)} ${kind} violations (${num(iso.incidentsByKind[kind] ?? 0)} incidents)`, evidence: samples.join('\n') }
    }
    return c
  })
}

/** The failures lines of decideOutcome() the other cases already stand for (result/outcome.ts words them). */
const COVERED = [/^threshold /, /^failed requests above the default budget/, /^\d+ isolation violations$/, /^\d+ of \d+ users lost$/, /^\d+ errors$/, /^\d+ checks failed$/, /^memory leak: /]

function otherCases (r: RunResult): TestCase[] {
  const out: TestCase[] = []
  const lk = r.leaks
  if (lk !== undefined) {
    const c: TestCase = { classname: 'crosstalk.leaks', name: 'heap growth' }
    if (lk.verdict === 'leak') c.failure = { type: 'leak', message: `memory leak: ${Math.round(lk.bytesPerOp)} B/op`, evidence: lk.reason }
    out.push(c)
  }
  const users: TestCase = { classname: 'crosstalk.users', name: 'no users lost' }
  if (r.users.lost > 0) users.failure = { type: 'lost-users', message: `${num(r.users.lost)} of ${num(r.users.planned)} users lost`, evidence: r.failures.find(f => /users lost$/.test(f)) ?? '' }
  const errors: TestCase = { classname: 'crosstalk.errors', name: 'no errors' }
  if (r.errors.count > 0) errors.failure = { type: 'errors', message: `${num(r.errors.count)} errors`, evidence: r.errors.groups.slice(0, 5).map(g => `${num(g.count)}× ${g.phase}: ${errorCause(g)}${g.message}${g.at === undefined ? '' : ` (at ${g.at})`}`).join('\n') }
  const rest = r.failures.filter(f => !COVERED.some(re => re.test(f)))
  const run: TestCase = { classname: 'crosstalk.run', name: 'completed' }
  if (r.status === 'interrupted') run.failure = { type: 'interrupted', message: `interrupted (${r.stopReason})`, evidence: rest.join('\n') }
  else if (rest.length > 0) run.failure = { type: 'run', message: rest[0]!, evidence: rest.join('\n') }
  out.push(users, errors, run)
  return out
}

function testcase (c: TestCase): string {
  const open = `    <testcase classname="${xmlText(c.classname)}" name="${xmlText(c.name)}" time="0"`
  if (c.failure !== undefined) {
    const f = c.failure
    return `${open}>\n      <failure type="${xmlText(f.type)}" message="${xmlText(redact(f.message))}">${xmlText(redact(f.evidence))}</failure>\n    </testcase>`
  }
  if (c.skipped !== undefined) return `${open}>\n      <skipped message="${xmlText(c.skipped)}"/>\n    </testcase>`
  return `${open}/>`
}

/** Pass counts of the checks (a passing testcase has no place for them in the strict format). */
function systemOut (r: RunResult): string {
  const lines = Object.entries(r.metrics).flatMap(([key, m]) => key.startsWith('checks{check:') && m.type === 'rate' ? [`${key.slice(13, -1)}: ${num(m.passes)} passed, ${num(m.fails)} failed`] : [])
  // outages are evidence, not verdicts: thresholds on outage.* turn them into failing cases
  return [`status ${r.status}: ${r.failures.length === 0 ? 'every check held' : r.failures.map(f => redact(f)).join('; ')}`, ...lines, ...outageLines(r)].join('\n')
}

/** The whole document for one run. */
export function formatJunitReport (r: RunResult): string {
  const cases = [...thresholdCases(r), ...checkCases(r), ...isolationCases(r), ...otherCases(r)]
  const failures = cases.filter(c => c.failure !== undefined).length
  const skipped = cases.filter(c => c.skipped !== undefined).length
  const time = (r.durationMs / 1000).toFixed(3)
  const props: Array<[string, string]> = [['runId', r.runId], ['status', r.status], ['target', redactUrl(r.target.url)], ['scenario', r.scenario.source], ['executor', r.executor.name], ['stopReason', r.stopReason], ['loadDurationMs', String(r.loadDurationMs)]]
  const suite = `crosstalk ${r.scenario.name}`
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="crosstalk" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}">
  <testsuite name="${xmlText(suite)}" package="crosstalk" id="0" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${r.startedAt.slice(0, 19)}" hostname="${xmlText(hostname() || 'localhost')}">
    <properties>
${props.map(([k, v]) => `      <property name="${k}" value="${xmlText(v)}"/>`).join('\n')}
    </properties>
${cases.map(testcase).join('\n')}
    <system-out>${xmlText(systemOut(r))}</system-out>
    <system-err></system-err>
  </testsuite>
</testsuites>
`
}

/** Writes `<dir>/junit.xml`; returns its path. */
export async function writeJunitReport (dir: string, r: RunResult): Promise<string> {
  const path = resolve(join(dir, JUNIT_REPORT_FILE))
  await writeFileAtomic(path, formatJunitReport(r))
  return path
}
