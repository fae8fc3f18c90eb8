// `npm run screenshot`: README's picture of report.html. A ramping run of the default scenario
// against the embedded fixture, its report.html drawn by headless Chromium (Debian's
// `chromium`) with the network off, written to docs/report.png.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const out = mkdtempSync(join(tmpdir(), 'crosstalk-screenshot-'))
const png = join(root, 'docs', 'report.png')
try {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'crosstalk.js'), 'run', 'default', '--executor', 'ramping-users', '--stages', '2s:200,4s:200,2s:40', '--workers', '2', '--out', out, '-q'], { stdio: 'inherit' })
  if (run.status !== 0) throw new Error(`the run exited ${run.status}`)
  const shot = spawnSync('chromium', [
    '--headless=new', '--disable-gpu', '--no-sandbox', '--hide-scrollbars', '--no-first-run', `--user-data-dir=${join(out, 'chromium')}`,
    '--host-resolver-rules=MAP * ~NOTFOUND', '--proxy-server=127.0.0.1:9',
    '--window-size=1200,1500', '--virtual-time-budget=5000', `--screenshot=${png}`, pathToFileURL(join(out, 'report.html')).href
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' } })
  if (shot.status !== 0) throw new Error(`chromium exited ${shot.status}: ${String(shot.stderr).slice(-1000)}`)
  console.log(`wrote ${png}`)
} finally {
  rmSync(out, { recursive: true, force: true })
}
