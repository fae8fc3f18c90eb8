// What the peers section needs that crosstalk does not depend on: Artillery, installed on demand
// into benchmarks/peers/ (its own package.json; ~970 packages, ~590 MB, never a dependency of
// crosstalk), and wrk, a Debian package installed through apt only when allowed.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { here, log } from './lib.js'

export const PEERS_DIR = here('../../benchmarks/peers/')

export interface Peer { available: true, version: string, note: string }
export interface MissingPeer { available: false, note: string }

function tail (text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n')
}

function installOutput (e: unknown): string {
  const err = e as { stdout?: string, stderr?: string, message?: string }
  return tail(`${err.stdout ?? ''}\n${err.stderr ?? ''}`) || (err.message ?? String(e))
}

/** Artillery's CLI entry (run with this Node, so no shell or PATH lookup). */
export const artilleryEntry = (): string => `${PEERS_DIR}node_modules/artillery/bin/run`

/** Installs the Artillery pinned in benchmarks/peers/package.json when it is not there yet. */
export function ensureArtillery (): Peer | MissingPeer {
  const pinned = (JSON.parse(readFileSync(`${PEERS_DIR}package.json`, 'utf8')) as { dependencies: Record<string, string> }).dependencies.artillery
  let note = 'already installed in benchmarks/peers/'
  if (!existsSync(`${PEERS_DIR}node_modules/.bin/artillery`)) {
    log(`peers: installing artillery@${pinned} into benchmarks/peers/ (npm install --ignore-scripts; ~970 packages, ~590 MB, about 1.5 min here)`)
    const started = performance.now()
    try {
      const out = execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--ignore-scripts', '--no-audit', '--no-fund'], {
        encoding: 'utf8',
        // Artillery's Playwright engine would download a browser; scripts are off anyway
        env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 15 * 60_000
      })
      note = `installed by this run: ${tail(out, 1)} in ${Math.round((performance.now() - started) / 1000)} s`
      log(`peers: ${note}`)
    } catch (e) {
      const why = installOutput(e)
      log(`peers: Artillery could not be installed:\n${why}`)
      return { available: false, note: `Artillery could not be installed (\`npm install --prefix benchmarks/peers\`: ${why.split('\n').at(-1) ?? ''})` }
    }
  }
  const version = (JSON.parse(readFileSync(`${PEERS_DIR}node_modules/artillery/package.json`, 'utf8')) as { version: string }).version
  return { available: true, version, note }
}

function wrkVersion (): string | undefined {
  try {
    // `wrk -v` prints its version and exits 1
    execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const out = `${(e as { stdout?: string }).stdout ?? ''}`
    if ((e as { code?: string }).code === 'ENOENT') return undefined
    return /wrk [^\s]+/.exec(out)?.[0] ?? 'wrk'
  }
  return 'wrk'
}

/** wrk from PATH, or `apt-get install -y wrk` when running as root and in CI or with BENCH_INSTALL=1. */
export function ensureWrk (): Peer | MissingPeer {
  const found = wrkVersion()
  if (found !== undefined) return { available: true, version: found, note: 'found on PATH' }
  const root = process.getuid?.() === 0
  const allowed = process.env.CI !== undefined || process.env.BENCH_INSTALL === '1'
  if (!root || !allowed) {
    return { available: false, note: `wrk is not installed; \`npm run bench\` installs it with apt only as root and with CI or BENCH_INSTALL=1 set (${root ? 'neither is set' : 'not root'}): run \`apt-get install -y wrk\` to include it` }
  }
  const apt = (args: string[]): string => execFileSync('apt-get', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 10 * 60_000 })
  log('peers: installing wrk (apt-get install -y wrk)')
  try {
    let out: string
    try {
      out = apt(['install', '-y', 'wrk'])
    } catch {
      // an image with empty package lists: fetch them once and try again
      apt(['update'])
      out = apt(['install', '-y', 'wrk'])
    }
    log(`peers: ${tail(out, 2)}`)
  } catch (e) {
    const why = installOutput(e)
    log(`peers: wrk could not be installed:\n${why}`)
    return { available: false, note: `wrk could not be installed with apt (${why.split('\n').at(-1) ?? ''})` }
  }
  const version = wrkVersion()
  return version === undefined
    ? { available: false, note: 'apt-get install -y wrk ran but wrk is not on PATH' }
    : { available: true, version, note: 'installed by this run with apt-get install -y wrk' }
}
