// The peers section's workloads, contenders and the figures kept per run (shared by peers.ts and
// peers-markdown.ts).
import { SECONDS, stat, type Stat } from './lib.js'
import type { ToolReport } from './peer-tools.js'
import type { MissingPeer, Peer } from './peers-setup.js'

export const STREAM_USERS = 1000
export const EVENT_RATE = 40_000 // /events: events per second summed over all sockets (as ws.ts)
export const IO_PER_SOCKET = 20 // Socket.IO: events per second on each socket (as io.ts)
// per run: short enough for the section to fit its budget, long enough for a 2.5 s steady window
export const RUN_SECONDS = Math.min(SECONDS, 5)
export const WINDOW_END_S = RUN_SECONDS - 1.5
export const ARTILLERY_GOAL = 0.1

export type Group = 'http50' | 'http1000' | 'ws' | 'io'
export type Contender = 'crosstalk' | 'artillery' | 'autocannon' | 'wrk' | 'bare'
export const GROUPS: Record<Group, readonly Contender[]> = {
  http50: ['crosstalk', 'artillery', 'autocannon', 'wrk'],
  http1000: ['crosstalk', 'artillery', 'autocannon', 'wrk'],
  ws: ['crosstalk', 'artillery', 'bare'],
  io: ['crosstalk', 'artillery', 'bare']
}

export interface PeerSample extends ToolReport { cpuUs: number, work: number, seconds: number, peakRssKb: number, users: number, connected: number }

export interface Summary { cpuPerUnit: Stat, perSecond: Stat, p50: Stat, p99: Stat, rssPerUserKb: Stat, connected: Stat, failed: number, rounds: number }

export const summarize = (xs: PeerSample[]): Summary => ({
  cpuPerUnit: stat(xs.map(s => s.cpuUs / s.work)),
  perSecond: stat(xs.map(s => s.work / s.seconds)),
  p50: stat(xs.map(s => s.p50)),
  p99: stat(xs.map(s => s.p99)),
  rssPerUserKb: stat(xs.map(s => s.peakRssKb / s.users)),
  connected: stat(xs.map(s => s.connected)),
  failed: xs.reduce((n, s) => n + s.failed, 0),
  rounds: xs.length
})

export interface Comparison { ratio: Stat, byRound: string }
export interface PeersSetup { artillery: Peer | MissingPeer, wrk: Peer | MissingPeer }
