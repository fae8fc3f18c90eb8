// CPU and memory of a process and all its descendants, read from /proc: the one measure that
// works the same for every peer (a Node tool with worker threads or child processes, or wrk in C)
// without changing how the tool runs. Linux only.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

export interface TreeUsage {
  /** user + system CPU of the tree's live processes (all threads) and of children they have reaped */
  cpuUs: number
  /** the sum of each live process's peak resident set (VmHWM) */
  peakRssKb: number
  /** the processes read */
  pids: number[]
}

let ticksPerSecond: number | undefined
function clockTicks (): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100 // USER_HZ on every Linux this runs on
    }
  }
  return ticksPerSecond
}

interface Stat { ppid: number, ticks: number }

/** /proc/<pid>/stat: the fields after the command name (which may hold spaces and parentheses). */
function readStat (pid: number): Stat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // exited meanwhile
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
  const n = (i: number): number => Number(f[i - 3])
  return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) }
}

function peakRssKb (pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** Usage of `root` and every live descendant (found by parent pid over all of /proc). */
export function treeUsage (root: number): TreeUsage {
  const stats = new Map<number, Stat>()
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid)) continue
    const s = readStat(pid)
    if (s !== undefined) stats.set(pid, s)
  }
  const pids = stats.has(root) ? [root] : []
  for (let i = 0; i < pids.length; i++) {
    for (const [pid, s] of stats) if (s.ppid === pids[i]) pids.push(pid)
  }
  let ticks = 0
  let rss = 0
  for (const pid of pids) {
    ticks += stats.get(pid)!.ticks
    rss += peakRssKb(pid)
  }
  return { cpuUs: ticks * 1e6 / clockTicks(), peakRssKb: rss, pids }
}
