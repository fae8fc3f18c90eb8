// Processes crosstalk starts die with it. Each runs in its own process group (spawned detached, so
// a terminal's Ctrl-C reaches crosstalk alone and crosstalk decides when they stop); a supervisor
// process (supervisor.ts) watching a pipe from crosstalk stops the group when crosstalk is gone,
// even by SIGKILL; and on a normal exit or a second signal an exit cleanup stops it at once.
import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { onProcessExit } from '../shared/index.js'

const SUPERVISOR_ENTRY = fileURLToPath(new URL('./supervisor.js', import.meta.url))

export interface Supervision {
  /** the group was stopped by its owner: drop the exit cleanup and let the supervisor go */
  release: () => void
}

/** Watches the process group `pgid` (a detached child's pid) for the life of this process. */
export function superviseGroup (pgid: number): Supervision {
  const supervisor = spawn(process.execPath, [SUPERVISOR_ENTRY, String(pgid)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  supervisor.unref()
  ;(supervisor.stdin as unknown as Socket).unref() // the watch must not keep crosstalk running
  supervisor.stdin.on('error', () => {}) // the supervisor may be gone first
  const drop = onProcessExit(() => {
    try { process.kill(-pgid, 'SIGKILL') } catch { /* already gone */ }
  })
  return {
    release: () => {
      drop()
      supervisor.stdin.end()
    }
  }
}
