// Load and inspector traffic stay on this machine unless the user says otherwise: one test of
// what "loopback" means, used by the target resolver and the DevTools client alike.
import { isIP } from 'node:net'

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. */
export function isLoopbackHost (hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.')
  return false
}
