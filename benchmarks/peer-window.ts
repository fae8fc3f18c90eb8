// One contender of the peers section, measured from outside the way every tool can be: its
// process tree's CPU from /proc, its work from the fixture's own counters (GET /health probes,
// WebSocket events written, Socket.IO events emitted), both read at the start and the end of a
// steady window: from 1 s after every user is connected to shortly before the load ends. So
// start-up (module loading, worker pools, logins, handshakes) and shutdown are excluded for every
// tool alike, without changing how any of them runs.
import { spawn } from 'node:child_process'
import { Client } from 'undici'
import type { FixtureStats } from '../fixtures/index.js'
import { log } from './lib.js'
import { treeUsage } from './proc-tree.js'

export interface Watch {
  /** the fixture's count of this kind of work (cumulative over the fixture's life) */
  work: (s: FixtureStats) => number
  /** the fixture's count of this contender's open connections */
  connections: (s: FixtureStats) => number
  users: number
  /**
   * the window ends this long after every user was seen connected, and at the latest 1 s before
   * this long after the spawn (tools whose duration counts from their start, like wrk)
   */
  endAfterS?: number
  runSeconds?: number
  /**
   * start the window anyway this long after the spawn, with fewer users connected (wrk at 1000:
   * the fixture, flooded by the first connections, accepted the rest at ~70/s here)
   */
  connectWaitS?: number
  /** or once this much work was done since the spawn (tools that run a fixed count) */
  endAtWork?: number
  /** the process's results are complete: it may be killed instead of waiting for its exit */
  resultsReady?: () => boolean
  timeoutS: number
}

export interface WindowSample {
  /** CPU of the contender's process tree over the window */
  cpuUs: number
  /** work the fixture counted over the window */
  work: number
  seconds: number
  /** peak resident memory of the tree (sum over its processes) */
  peakRssKb: number
  /** the contender's connections the fixture had open at the window's start */
  connected: number
  stdout: string
}

const POLL_MS = 100
const RSS_POLL_MS = 500
const MIN_WINDOW_MS = 1500
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, Math.max(0, ms)))

// one connection for every /stats read (fetch's pool would open a second one now and then, and
// the fixture counts connections); closed with closeStats()
const statsClients = new Map<string, Client>()

export async function fixtureStats (url: string): Promise<FixtureStats> {
  let client = statsClients.get(url)
  if (client === undefined) statsClients.set(url, client = new Client(url, { pipelining: 1 }))
  const res = await client.request({ method: 'GET', path: '/stats' })
  return await res.body.json() as FixtureStats
}

export async function closeStats (): Promise<void> {
  await Promise.all([...statsClients.values()].map(c => c.close()))
  statsClients.clear()
}

/** Waits until the previous contender's connections are gone, so they are not counted as this one's. */
export async function waitQuiet (url: string, quiet: (s: FixtureStats) => boolean, timeoutS = 20): Promise<void> {
  const until = performance.now() + timeoutS * 1000
  while (performance.now() < until) {
    if (quiet(await fixtureStats(url))) return
    await sleep(200)
  }
  const s = await fixtureStats(url)
  log(`peers: the fixture still has connections open after ${timeoutS} s (${s.openSockets} TCP, ${s.openWebSockets} WebSocket, ${s.io.openSockets} Socket.IO); going on`)
}

interface Mark { cpuUs: number, work: number, at: number }

export async function measureWindow (url: string, command: string, args: string[], watch: Watch, env: NodeJS.ProcessEnv = process.env): Promise<WindowSample> {
  const base = await fixtureStats(url)
  const spawnedAt = performance.now()
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  let exited: number | null | undefined
  const exit = new Promise<void>(resolve => child.once('exit', (code) => { exited = code; resolve() }))
  const pid = child.pid!
  let peakRssKb = 0
  const rss = setInterval(() => { peakRssKb = Math.max(peakRssKb, treeUsage(pid).peakRssKb) }, RSS_POLL_MS)
  const deadline = performance.now() + watch.timeoutS * 1000
  const check = (what: string): void => {
    if (exited !== undefined) throw new Error(`${command} exited (${exited}) before ${what}:\n${stderr.slice(-1500)}\n${stdout.slice(-1500)}`)
    if (performance.now() > deadline) throw new Error(`${command}: no ${what} within ${watch.timeoutS} s`)
  }
  // CPU read on both sides of the /stats read (a loaded fixture takes tens of ms to answer), so
  // the CPU and the work counted refer to the same moment
  const mark = async (): Promise<Mark> => {
    const before = treeUsage(pid)
    const t0 = performance.now()
    const work = watch.work(await fixtureStats(url)) - watch.work(base)
    const after = treeUsage(pid)
    peakRssKb = Math.max(peakRssKb, after.peakRssKb)
    return { cpuUs: (before.cpuUs + after.cpuUs) / 2, work, at: (t0 + performance.now()) / 2 }
  }
  try {
    // 98%: with 1000 connections, a few may be reconnecting (wrk after a timeout) at any moment
    const giveUpAt = watch.connectWaitS === undefined ? Infinity : spawnedAt + watch.connectWaitS * 1000
    while (watch.connections(await fixtureStats(url)) - watch.connections(base) < Math.ceil(0.98 * watch.users) && performance.now() < giveUpAt) {
      check(`${watch.users} connections`)
      await sleep(POLL_MS)
    }
    const connectedAt = performance.now()
    await sleep(connectedAt + 1000 - performance.now())
    const from = await mark()
    const connected = watch.connections(await fixtureStats(url)) - watch.connections(base)
    if (watch.endAfterS !== undefined) {
      const end = Math.min(connectedAt + watch.endAfterS * 1000, spawnedAt + ((watch.runSeconds ?? Infinity) - 1) * 1000)
      if (end - from.at < MIN_WINDOW_MS) throw new Error(`${command}: connecting took too long for a steady window (${Math.round(connectedAt - spawnedAt)} ms)`)
      await sleep(end - performance.now())
      check('the end of the window')
    } else {
      const target = watch.endAtWork ?? 0
      if (from.work >= target) throw new Error(`${command}: the run was too short for a steady window (${from.work} of ${target} done 1 s after all users connected)`)
      while (watch.work(await fixtureStats(url)) - watch.work(base) < target) {
        check(`${target} units of work`)
        await sleep(POLL_MS)
      }
    }
    const to = await mark()
    while (exited === undefined && watch.resultsReady?.() !== true) {
      check('its results')
      peakRssKb = Math.max(peakRssKb, treeUsage(pid).peakRssKb)
      await sleep(POLL_MS)
    }
    if (exited === undefined) child.kill('SIGKILL') // results written; what is left is its shutdown
    await exit
    if (exited !== 0 && exited !== null && watch.resultsReady === undefined) throw new Error(`${command} exited ${exited}:\n${stderr.slice(-1500)}`)
    return { cpuUs: to.cpuUs - from.cpuUs, work: to.work - from.work, seconds: (to.at - from.at) / 1000, peakRssKb, connected, stdout }
  } finally {
    clearInterval(rss)
    if (exited === undefined) child.kill('SIGKILL')
  }
}
