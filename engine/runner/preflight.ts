// Checks made before any load, so a run that cannot end well fails in the first second instead of
// after its measurements: the report directory is writable, and the users fit in the open-file limit.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError, OPEN_FILES_HINT, OutDirError } from '../errors.js'

/** Creates `dir` and writes (then removes) a probe file in it; any failure is CT_ERR_OUT. */
export async function checkOutDir (dir: string, flag = '--out'): Promise<void> {
  const path = resolve(dir)
  const probe = join(path, `.crosstalk-probe-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(path, { recursive: true })
    await writeFile(probe, '')
  } catch (err) {
    throw new OutDirError(`${flag} ${path} cannot be written: ${describeFsError(err)}`)
  } finally {
    await rm(probe, { force: true }).catch(() => {}) // nothing to remove when the path was not a directory
  }
}

function describeFsError (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'EEXIST': return 'it is a file, not a directory (EEXIST)'
    case 'ENOTDIR': return 'a part of the path is a file, not a directory (ENOTDIR)'
    case 'EACCES': case 'EPERM': return `permission denied (${code})`
    case 'EROFS': return 'read-only file system (EROFS)'
    default: return code ?? (err as Error).message
  }
}

/** descriptors crosstalk needs besides the users' (the process, its worker threads, the report) */
export const RESERVED_FILES = 64

/** The soft open-file limit (Linux: /proc/self/limits); undefined where it cannot be read. */
export function openFileLimit (): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft)
  } catch {
    return undefined
  }
}

/**
 * Users x descriptors per user against the soft limit: an error when even one per user cannot fit,
 * a warning (returned) when two per user (HTTP + one WebSocket) might not. `perUser` doubles when
 * the server runs in this process too (each connection is then two descriptors here).
 */
export function checkOpenFiles (users: number, perUser: number, limit = openFileLimit()): string | undefined {
  if (limit === undefined) return undefined
  const one = users * perUser + RESERVED_FILES
  if (one > limit) {
    throw new ConfigError(`${users} users need at least ${one} open files (${perUser} per user + ${RESERVED_FILES}) but the open-file limit (ulimit -n) is ${limit}: ${OPEN_FILES_HINT}`)
  }
  const two = users * perUser * 2 + RESERVED_FILES
  if (two > limit) {
    return `${users} users with an HTTP connection and a WebSocket each need ${two} open files but the open-file limit (ulimit -n) is ${limit}: users may fail with EMFILE; ${OPEN_FILES_HINT}`
  }
  return undefined
}
