// Helpers for the report tests: report.json against its published JSON Schema (ajv), junit.xml
// against the JUnit XSD (xmllint), and a page opened in headless Chromium (Debian's `chromium`)
// with the network off: the DOM after its scripts ran, and a screenshot.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
export { reportSchemaErrors } from '../engine/report/schema-check.js'

export const JUNIT_XSD = new URL('../../test/fixtures/junit.xsd', import.meta.url)

interface Exec { code: number | null, stdout: string, stderr: string }

function exec (command: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', err => { clearTimeout(timer); reject(err) })
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** `xmllint --schema`: exit 0 and "validates", or the complaints. */
export async function validateJunit (file: string): Promise<Exec> {
  return await exec('xmllint', ['--noout', '--schema', JUNIT_XSD.pathname, file], 30_000)
}

/**
 * Opens `htmlFile` in headless Chromium with every host unresolvable and a dead proxy (no
 * network), lets its scripts run (virtual time), and returns the DOM; writes a screenshot.
 */
export async function openInChromium (htmlFile: string, screenshot: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'crosstalk-chromium-'))
  try {
    const r = await exec('chromium', [
      '--headless=new', '--disable-gpu', '--no-sandbox', '--hide-scrollbars', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', `--user-data-dir=${profile}`,
      '--host-resolver-rules=MAP * ~NOTFOUND', '--proxy-server=127.0.0.1:9',
      '--window-size=1200,2400', '--virtual-time-budget=5000', `--screenshot=${screenshot}`, '--dump-dom',
      pathToFileURL(htmlFile).href
    ], 60_000)
    if (r.code !== 0 || !r.stdout.includes('</html>')) throw new Error(`chromium exited ${r.code}: ${r.stderr.slice(-2000)}`)
    return r.stdout
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** Attributes of the first element whose start tag matches `selector` (`id="chart-x"`, `<body`). */
export function attributes (dom: string, selector: string): Record<string, string> | undefined {
  const at = dom.indexOf(selector)
  if (at === -1) return undefined
  const start = dom.lastIndexOf('<', at)
  const tag = dom.slice(start, dom.indexOf('>', at))
  const out: Record<string, string> = {}
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')
  return out
}

/** Every chart figure of the page: its id and data attributes. */
export function figures (dom: string): Array<Record<string, string>> {
  return [...dom.matchAll(/<figure class="chart"[^>]*>/g)].map(m => attributes(m[0], '<figure')!)
}

/** The text of #console-errors (what the page's scripts reported). */
export function pageErrors (dom: string): string {
  const m = /<pre id="console-errors"[^>]*>([\s\S]*?)<\/pre>/.exec(dom)
  return m?.[1] ?? 'no #console-errors element'
}
