// junit.xml: a run with a failed threshold and an isolation violation has exactly those two
// failing testcases, and the file passes the JUnit XSD (xmllint); a clean run has none. Both
// runs' report.json files pass the published JSON Schema.
import test, { type ExecutionContext } from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'
import { NOTES_SCENARIO, startNotesServer } from './notes-server.js'
import { reportSchemaErrors, validateJunit } from './report-support.js'

interface Case { classname: string, name: string, failure?: { type: string, message: string, evidence: string } }

/** The testcases of a junit.xml, read with a regex (the XSD check covers the structure). */
function testcases (xml: string): Case[] {
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
  return [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" time="[^"]*"(\/>|>([\s\S]*?)<\/testcase>)/g)].map(m => {
    const f = /<failure type="([^"]*)" message="([^"]*)">([\s\S]*?)<\/failure>/.exec(m[4] ?? '')
    return { classname: m[1]!, name: unescape(m[2]!), ...(f !== null && { failure: { type: f[1]!, message: unescape(f[2]!), evidence: unescape(f[3]!) } }) }
  })
}

async function notesRun (t: ExecutionContext, leak: boolean, thresholds?: Record<string, string[]>): Promise<{ dir: string, xml: string }> {
  const server = await startNotesServer({ leak })
  t.teardown(() => server.close())
  const dir = tempDir(t)
  const scenario = writeScenario(dir, 'notes.mjs', NOTES_SCENARIO)
  const result = await run({ scenario, target: server.url, users: 50, duration: '2s', workers: 2, out: join(dir, 'out'), ...(thresholds !== undefined && { thresholds }) })
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'))
  t.deepEqual(reportSchemaErrors(report), [], 'report.json follows schema/report.schema.json')
  t.is(report.status, result.status)
  return { dir, xml: readFileSync(join(dir, 'out', 'junit.xml'), 'utf8') }
}

test('a failed threshold and an isolation violation are exactly the failing testcases, with their evidence; the XSD accepts the file', async t => {
  const { dir, xml } = await notesRun(t, true, { 'http.reqs': ['count<1'] })
  const cases = testcases(xml)
  const failing = cases.filter(c => c.failure !== undefined)
  t.deepEqual(failing.map(c => `${c.classname} ${c.name}`), ['crosstalk.thresholds http.reqs: count<1', 'crosstalk.isolation foreign-data'], xml)
  const [threshold, isolation] = failing
  t.is(threshold!.failure!.type, 'threshold')
  t.regex(threshold!.failure!.evidence, /^http\.reqs: count<1 measured [\d,]+$/)
  t.regex(isolation!.failure!.message, /^[\d,]+ foreign-data violations \([\d,]+ incidents\)$/)
  // the evidence names who saw whose note, where, and the (redacted) excerpt with the canary
  t.regex(isolation!.failure!.evidence, /^user-\d+ got user-\d+'s data · GET \/note body · .*ctk_/m)
  // every other case is there and passes: the default budget, both checks, the other kinds, users, errors, the run
  t.true(cases.some(c => c.classname === 'crosstalk.thresholds' && c.name === 'http.req.failed: rate<0.05' && c.failure === undefined))
  t.deepEqual(cases.filter(c => c.classname === 'crosstalk.checks').map(c => c.name).sort(), ['note read', 'note stored'])
  t.is(cases.filter(c => c.classname === 'crosstalk.isolation').length, 5)
  t.regex(xml, /<testsuite name="crosstalk notes" package="crosstalk" id="0" tests="\d+" failures="2" errors="0"/)
  const v = await validateJunit(join(dir, 'out', 'junit.xml'))
  t.is(v.code, 0, v.stderr)
  t.regex(v.stderr, /validates/)
})

test('a clean run: no failing testcase, one passing case per violation kind; a broken document fails the XSD', async t => {
  const { dir, xml } = await notesRun(t, false)
  const cases = testcases(xml)
  t.deepEqual(cases.filter(c => c.failure !== undefined), [])
  t.deepEqual(cases.filter(c => c.classname === 'crosstalk.isolation').map(c => c.name), ['foreign-data', 'foreign-event', 'foreign-access', 'foreign-credentials', 'read-your-writes'])
  t.regex(xml, /failures="0"/)
  t.is((await validateJunit(join(dir, 'out', 'junit.xml'))).code, 0)
  // the schema check is not vacuous: a testcase without its classname is refused
  const broken = join(dir, 'broken.xml')
  writeFileSync(broken, xml.replace('classname="crosstalk.thresholds" ', ''))
  const v = await validateJunit(broken)
  t.not(v.code, 0)
  t.regex(v.stderr, /classname/)
})
