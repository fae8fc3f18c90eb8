// Shared helpers for the tests: run the real CLI, make temp dirs, write throwaway scenarios.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFixture, type FixtureHandle, type FixtureOptions } from '../fixtures/index.js'

export const CLI = fileURLToPath(new URL('../../bin/crosstalk.js', import.meta.url))
/** file URL of the compiled public API, for scenarios written outside the package */
export const ENGINE_URL = new URL('../engine/index.js', import.meta.url).href

export interface CliResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }

/** Runs `crosstalk <args>`; `onStderr` sees stderr as it arrives (to send signals at the right moment). */
export function cli (args: string[], opts: { timeoutMs?: number, cwd?: string, nodeArgs?: string[], onStderr?: (all: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<CliResult> {
  const start = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { cwd: opts.cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; opts.onStderr?.(stderr, child) })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - start })
    })
  })
}

export function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'crosstalk-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Writes a scenario module into `dir`; `body` may use `defineScenario`. */
export function writeScenario (dir: string, name: string, body: string): string {
  const path = join(dir, name)
  writeFileSync(path, `import { defineScenario } from ${JSON.stringify(ENGINE_URL)}\n${body}\n`)
  return path
}

/** The fixture on 127.0.0.1, port 0, closed when the test ends. */
export async function fixture (t: { teardown: (fn: () => Promise<void>) => void }, options: FixtureOptions): Promise<FixtureHandle> {
  const f = await startFixture(options)
  t.teardown(() => f.close())
  return f
}
