// Shared by the benchmarks: the fixture in its own process, clients in their own processes,
// medians with their range, paired ratios.
import { spawn, execFileSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { availableParallelism, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
// 5 s runs: a run costs ~8 s of fixed set-up (process, pool, 1000 users), and `npm run bench` must fit 25 minutes
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)

export const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))

export interface Fixture { url: string, pid: number, stop: () => void }

export function startFixture (args: string[] = []): Promise<Fixture> {
  const child = spawn(process.execPath, [here('../fixtures/child.js'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      const { url, pid } = JSON.parse(line) as { url: string, pid: number }
      resolve({ url, pid, stop: () => child.kill('SIGTERM') })
    })
    child.once('exit', code => reject(new Error(`fixture exited ${code}`)))
  })
}

/** Runs a client script in its own process (with `nodeArgs` before it, killed after `timeoutS`); its last stdout line is its JSON result. */
export function runClient<T> (script: string, args: string[], nodeArgs: string[] = [], timeoutS = SECONDS + 120): T {
  const out = execFileSync(process.execPath, [...nodeArgs, here(script), ...args], { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 * 2 ** 20 })
  return JSON.parse(out.trim().split('\n').at(-1)!) as T
}

export interface Stat { median: number, min: number, max: number }

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })

export const fmt = (v: number, d = 1): string => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

export const show = (s: Stat, d = 1): string => `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`

/** Per round a/b, then the median and range of those ratios. */
export function pairedRatio (a: number[], b: number[]): Stat {
  return stat(a.map((x, i) => x / b[i]!))
}

/** Per round a/b, listed in round order (the spread a median hides). */
export function perRound (a: number[], b: number[], d = 2): string {
  return a.map((x, i) => fmt(x / b[i]!, d)).join(', ')
}

export function log (line: string): void {
  process.stderr.write(line + '\n')
}

/** 1-minute load average, read before and after a section: other work on the same cores skews CPU figures. */
export const loadAverage = (): number => loadavg()[0]!

export function loadNote (before: number, after: number): string {
  const cores = availableParallelism()
  const shared = Math.max(before, after) > cores
  return `Machine load (1-minute average) before / after this section: ${fmt(before, 2)} / ${fmt(after, 2)} on ${cores} cores${shared ? ': the machine was shared with other work during these runs, so absolute figures are inflated; the paired ratios are the figures to read' : ''}.`
}
