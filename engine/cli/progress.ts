// Live progress: one rewritten line on a TTY, a plain line every few seconds elsewhere (CI logs).
import type { RunProgress } from '../options/index.js'

const PLAIN_EVERY_S = 5

export function formatProgress (p: RunProgress): string {
  const p95 = p.p95Ms === null ? '-' : `${p.p95Ms.toFixed(1)}ms`
  const events = p.eventsReceived > 0 ? `  ${Math.round(p.eventsPerS).toLocaleString('en-US')} events/s` : ''
  return `${p.elapsedS.toFixed(0).padStart(4)}s  ${p.phase.padEnd(8)} users ${p.activeUsers}/${p.plannedUsers}  ${Math.round(p.reqPerS).toLocaleString('en-US')} req/s  p95 ${p95}${events}  errors ${p.errors}${p.failedRequests > 0 ? `  failed requests ${p.failedRequests}` : ''}`
}

export function createProgressPrinter (stream: NodeJS.WriteStream): { update: (p: RunProgress) => void, done: () => void } {
  const tty = stream.isTTY === true && process.env.CI === undefined
  let lastPlain = -Infinity
  let lastPhase = ''
  return {
    update (p) {
      if (tty) {
        stream.write(`\r\x1b[2K${formatProgress(p)}`)
      } else if (p.phase !== lastPhase || p.elapsedS - lastPlain >= PLAIN_EVERY_S) {
        stream.write(formatProgress(p) + '\n')
        lastPlain = p.elapsedS
      }
      lastPhase = p.phase
    },
    done () {
      if (tty) stream.write('\r\x1b[2K')
    }
  }
}
