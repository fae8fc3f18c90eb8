// report.html and compare.html opened in headless Chromium with the network off: every chart is
// drawn with the run's number of points, the header's status and totals are report.json's, the
// page's scripts report no error, and a screenshot is written beside the report.
import test, { type ExecutionContext } from 'ava'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { compare, run, type RunResult } from '../engine/index.js'
import { tempDir, writeScenario } from './support.js'
import { NOTES_SCENARIO, startNotesServer } from './notes-server.js'
import { attributes, figures, openInChromium, pageErrors, reportSchemaErrors } from './report-support.js'

async function notesRun (t: ExecutionContext, dir: string, name: string, o: { leak?: boolean, delayMs?: number }): Promise<RunResult> {
  const server = await startNotesServer(o)
  t.teardown(() => server.close())
  const scenario = writeScenario(dir, `${name}.mjs`, NOTES_SCENARIO)
  const result = await run({ scenario, target: server.url, users: 50, duration: '3s', workers: 2, out: join(dir, name) })
  t.deepEqual(reportSchemaErrors(JSON.parse(readFileSync(join(dir, name, 'report.json'), 'utf8'))), [], `${name}/report.json follows the schema`)
  return result
}

/** The page loads nothing from outside: no src or href to a network address (its CSP forbids it too). */
function assertOffline (t: ExecutionContext, html: string): void {
  t.notRegex(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i)
  t.regex(html, /Content-Security-Policy" content="default-src 'none'/)
}

function assertScreenshot (t: ExecutionContext, png: string): void {
  t.true(existsSync(png), png)
  t.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  t.true(statSync(png).size > 20_000, 'not a blank page')
}

test('report.html: every chart drawn with the run\'s points, header status and totals as report.json, no script error, a screenshot', async t => {
  const dir = tempDir(t)
  const r = await notesRun(t, dir, 'leaky', { leak: true })
  const html = join(dir, 'leaky', 'report.html')
  assertOffline(t, readFileSync(html, 'utf8'))
  const png = join(dir, 'leaky', 'report.png')
  const dom = await openInChromium(html, png)
  t.is(pageErrors(dom), '')
  t.is(attributes(dom, '<body')!['data-errors'], '0')
  const figs = figures(dom)
  t.is(attributes(dom, '<body')!['data-charts'], String(figs.length), 'the script reached every chart')
  t.deepEqual(figs.map(f => f.id), ['chart-throughput', 'chart-latency', 'chart-latency-name-1', 'chart-latency-name-2', 'chart-users', 'chart-isolation'])
  for (const f of figs) {
    t.is(f['data-points'], String(r.timeSeries.length), f.id)
    t.is(f['data-rendered'], String(r.timeSeries.length), `${f.id} drawn with every point`)
  }
  const sums = (id: string): number[] => JSON.parse(figs.find(f => f.id === id)!['data-sums']!)
  const reqs = r.metrics['http.reqs']
  t.is(sums('chart-throughput')[0], reqs?.type === 'counter' ? reqs.count : -1, 'requests/s adds up to the total')
  t.true(r.isolation.violations > 0)
  t.is(sums('chart-isolation')[0], r.isolation.byKind['foreign-data'], 'violations/s add up to the total')
  const header = attributes(dom, 'id="summary"')!
  t.is(header['data-status'], r.status)
  t.is(header['data-status'], 'failed')
  t.is(Number(header['data-requests']), reqs?.type === 'counter' ? reqs.count : -1)
  t.is(Number(header['data-violations']), r.isolation.violations)
  t.is(Number(header['data-errors']), r.errors.count)
  t.regex(dom, /<span class="status failed" id="status">FAILED<\/span>/)
  t.regex(dom, /<table id="isolation-samples">/)
  assertScreenshot(t, png)
})

test('compare.html: both sides overlaid per metric, each chart with every window, the verdict as compare.json', async t => {
  const dir = tempDir(t)
  await notesRun(t, dir, 'base', {})
  await notesRun(t, dir, 'slow', { delayMs: 20 })
  const out = join(dir, 'compare')
  const result = await compare({ baseline: join(dir, 'base', 'report.json'), candidate: join(dir, 'slow', 'report.json'), out })
  const saved = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'))
  const html = join(out, 'compare.html')
  assertOffline(t, readFileSync(html, 'utf8'))
  const png = join(out, 'compare.png')
  const dom = await openInChromium(html, png)
  t.is(pageErrors(dom), '')
  const figs = figures(dom)
  t.deepEqual(figs.map(f => f.id), ['chart-compare-p50', 'chart-compare-p95', 'chart-compare-p99', 'chart-compare-throughput', 'chart-compare-errorRate'])
  const windows = Math.max(saved.rounds[0].baseline.windows, saved.rounds[0].candidate.windows)
  t.true(windows > 0)
  for (const f of figs) {
    t.is(f['data-series'], '2', `${f.id}: baseline and candidate`)
    t.is(f['data-points'], String(windows), f.id)
    t.is(f['data-rendered'], String(windows), `${f.id} drawn with every window`)
  }
  t.is(attributes(dom, 'id="summary"')!['data-status'], saved.verdict)
  t.is(saved.verdict, result.verdict)
  // each chart's title carries its metric's verdict from compare.json
  const marks: Record<string, string> = { within: '✓ within', regressed: '✗ regressed', inconclusive: '? inconclusive' }
  for (const m of saved.metrics.filter((x: { metric: string }) => x.metric !== 'heapSlope')) t.true(dom.includes(`<h3>${m.metric}: ${marks[m.verdict]}</h3>`), m.metric)
  assertScreenshot(t, png)
})
