// The report files from the command line: `run` writes report.json, report.html, summary.md and
// junit.xml (each but report.json can be turned off), `--json` prints report.json without its
// series on stdout, summary.md goes to $GITHUB_STEP_SUMMARY, and `crosstalk report` renders the
// same files again from a saved report.json.
import test from 'ava'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tempDir } from './support.js'
import { reportSchemaErrors } from './report-support.js'
import { run, type RunResult } from '../engine/index.js'
import { selfCheckReport } from '../engine/report/index.js'
import { SCHEMA_CHECK_ENV } from '../engine/report/schema-check.js'

test('run --json: stdout is report.json without timeSeries, the summary on stderr; every file written; summary.md appended to $GITHUB_STEP_SUMMARY', async t => {
  const dir = tempDir(t)
  const stepSummary = join(dir, 'step-summary.md')
  writeFileSync(stepSummary, '# earlier step\n')
  process.env.GITHUB_STEP_SUMMARY = stepSummary
  t.teardown(() => { delete process.env.GITHUB_STEP_SUMMARY })
  const out = join(dir, 'out')
  const r = await cli(['run', '--users', '20', '--duration', '2s', '--workers', '2', '--json', '--out', out], { cwd: dir })
  t.is(r.code, 0, r.stderr)
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))
  t.deepEqual(reportSchemaErrors(report), [])
  const printed = JSON.parse(r.stdout)
  const { timeSeries, ...rest } = report
  t.true(timeSeries.length > 0)
  t.deepEqual(printed, rest)
  t.regex(r.stderr, /crosstalk · scenario default/, 'the human summary went to stderr')
  t.deepEqual(readdirSync(out).sort(), ['junit.xml', 'report.html', 'report.json', 'summary.md'])
  const md = readFileSync(join(out, 'summary.md'), 'utf8')
  t.regex(md, /^# crosstalk run: default\n\n\*\*Status: ✓ PASSED\*\*/)
  t.is(readFileSync(stepSummary, 'utf8'), `# earlier step\n${md}`)

  // re-rendered from the saved report: the same bytes, only the formats asked for
  const again = join(dir, 'again')
  const html = await cli(['report', join(out, 'report.json'), '--html', '--out', again])
  t.is(html.code, 0, html.stderr)
  t.deepEqual(readdirSync(again), ['report.html'])
  t.is(readFileSync(join(again, 'report.html'), 'utf8'), readFileSync(join(out, 'report.html'), 'utf8'))
  delete process.env.GITHUB_STEP_SUMMARY
  const all = await cli(['report', join(out, 'report.json'), '--out', again, '-q'])
  t.is(all.code, 0, all.stderr)
  t.deepEqual(readdirSync(again).sort(), ['junit.xml', 'report.html', 'summary.md'])
  for (const f of ['summary.md', 'junit.xml']) t.is(readFileSync(join(again, f), 'utf8'), readFileSync(join(out, f), 'utf8'), f)
})

test('--no-html --no-junit leave report.json and summary.md; crosstalk report refuses a file that is not a report', async t => {
  const dir = tempDir(t)
  const out = join(dir, 'out')
  const r = await cli(['run', '--users', '10', '--duration', '1s', '--workers', '2', '--no-html', '--no-junit', '-q', '--out', out], { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.deepEqual(readdirSync(out).sort(), ['report.json', 'summary.md'])
  const bad = await cli(['report', join(out, 'summary.md')])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /^crosstalk: CT_ERR_CONFIG: cannot read report .*summary\.md/)
  writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')), schemaVersion: 99 }))
  const newer = await cli(['report', join(dir, 'old.json')])
  t.is(newer.code, 2)
  t.regex(newer.stderr, /schemaVersion 99; this crosstalk reads schemaVersion 2/)
})

test('the suite checks every result against the schema: a run() whose result strays from it fails with CT_ERR_INTERNAL', async t => {
  t.is(process.env[SCHEMA_CHECK_ENV], '1', 'ava.config.js turns the check on for every test')
  const result = await run({ fixture: true, users: 4, duration: '1s', workers: 1 })
  t.notThrows(() => selfCheckReport(result))
  const strayed = { ...result, schemaVersion: 1, extra: true } as unknown as RunResult
  const err = t.throws(() => selfCheckReport(strayed))
  t.is((err as { code?: string }).code, 'CT_ERR_INTERNAL')
  t.regex(err.message, /\/schemaVersion must be equal to constant/)
  t.regex(err.message, /must NOT have additional properties .*"extra"/)
})
