// Which process of a started command listens on its port, and its resident memory: read from
// Linux's /proc. A command run by a shell (or a wrapper such as npm) is a group of processes;
// the one that owns the listening socket is the server. Elsewhere (no /proc) the figures are
// left out and the spawned process stands for the server.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'

function read (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** The pids in process group `pgid` (field 5 of /proc/<pid>/stat; the name before it may hold spaces). */
export function groupMembers (pgid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.filter(e => /^\d+$/.test(e)).map(Number).filter(pid => {
    const stat = read(`/proc/${pid}/stat`)
    if (stat === undefined) return false
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[2]) === pgid
  })
}

/** Socket inodes listening on `port` (IPv4 or IPv6, any address). */
function listeningInodes (port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (read(table) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the socket's inode
      if (f[1]?.endsWith(`:${hexPort}`) === true && f[3] === '0A' && f[9] !== undefined) inodes.add(f[9])
    }
  }
  return inodes
}

function ownsSocket (pid: number, inodes: Set<string>): boolean {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return false
  }
  return fds.some(fd => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      return m !== null && inodes.has(m[1]!)
    } catch {
      return false
    }
  })
}

/** Whether this system says who listens on a port (Linux's /proc). */
export function canTellListeners (): boolean {
  return existsSync('/proc/net/tcp')
}

/** The member of group `pgid` listening on `port`, else undefined (no /proc, or not found). */
export function listeningPid (pgid: number, port: number): number | undefined {
  const inodes = listeningInodes(port)
  if (inodes.size === 0) return undefined
  return groupMembers(pgid).find(pid => ownsSocket(pid, inodes))
}

/** VmRSS of `pid` in bytes, or undefined (gone, or no /proc). */
export function residentBytes (pid: number): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(read(`/proc/${pid}/status`) ?? '')
  return m === null ? undefined : Number(m[1]) * 1024
}
