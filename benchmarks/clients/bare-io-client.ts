// The peer for the Socket.IO receive path: a bare socket.io-client loop. Logs each user in, opens
// one socket per user, each with its own Manager (forceNew, as crosstalk does), and counts every
// `event`, touching its payload. CPU and events are read over the same steady window as
// crosstalk's (1 s after all sockets are open to 1 s before the end). Prints {events, cpuUs, seconds}.
import { io, type Socket } from 'socket.io-client'
import { request } from 'undici'

const [url = '', users, seconds] = process.argv.slice(2)
const n = Number(users)
let events = 0
const sockets: Socket[] = []
await Promise.all(Array.from({ length: n }, async (_, i) => {
  const res = await request(`${url}/login`, { method: 'POST', body: JSON.stringify({ name: `bare-io-${i}` }), headers: { 'content-type': 'application/json' } })
  const { token } = await res.body.json() as { token: string }
  const socket = io(url, { path: '/socket.io', forceNew: true, multiplex: false, transports: ['websocket'], reconnection: false, auth: { token } })
  socket.on('event', (e: { seq?: number, data?: { note?: string } }) => {
    if (typeof e.seq === 'number' && e.data !== undefined) events++
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  sockets.push(socket)
}))
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
await sleep(1000)
const cpu0 = process.cpuUsage()
const events0 = events
const t0 = performance.now()
await sleep((Number(seconds) - 2) * 1000)
const cpu = process.cpuUsage(cpu0)
const window = { events: events - events0, cpuUs: cpu.user + cpu.system, seconds: (performance.now() - t0) / 1000 }
for (const s of sockets) s.disconnect()
console.log(JSON.stringify(window))
