// One crosstalk run in this process, read over the steady window (from 1 s into the load phase to
// its last second), so logins, handshakes and pool start-up do not count. Shared by the
// event-stream clients; returns {events, cpuUs, seconds, lost, p50, p99}.
import { run, type RunOptions, type RunProgress } from '../../engine/index.js'

export interface SteadySample { events: number, cpuUs: number, seconds: number, lost: number, p50: number, p99: number }

export async function steadyRun (options: RunOptions, totalS: number): Promise<SteadySample> {
  interface Mark { cpu: NodeJS.CpuUsage, events: number, at: number }
  let from: Mark | undefined
  let to: Mark | undefined
  const mark = (p: RunProgress): Mark => ({ cpu: process.cpuUsage(), events: p.eventsReceived, at: performance.now() })
  const r = await run({
    ...options,
    onProgress: (p) => {
      if (p.phase !== 'load') return
      if (from === undefined && p.elapsedS >= 1) from = mark(p)
      else if (from !== undefined && to === undefined && p.elapsedS >= totalS - 1) to = mark(p)
    }
  })
  if (from === undefined || to === undefined) throw new Error('run too short for a steady window')
  const lat = r.metrics['ws.event.latency']
  return {
    events: to.events - from.events,
    cpuUs: (to.cpu.user - from.cpu.user) + (to.cpu.system - from.cpu.system),
    seconds: (to.at - from.at) / 1000,
    lost: r.events.lost,
    p50: lat?.type === 'trend' ? lat.med : 0,
    p99: lat?.type === 'trend' ? lat.p99 : 0
  }
}
