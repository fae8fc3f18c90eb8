// The peer for event dispatch: a bare `ws` client loop. Logs each user in, opens one socket per
// user and parses every frame, nothing else. CPU and events are read over the same steady window
// as crosstalk's (1 s after all sockets are open to 1 s before the end). Prints {events, cpuUs, seconds}.
import WebSocket from 'ws'
import { request } from 'undici'

const [url = '', users, seconds] = process.argv.slice(2)
const n = Number(users)
let events = 0
const sockets: WebSocket[] = []
await Promise.all(Array.from({ length: n }, async (_, i) => {
  const res = await request(`${url}/login`, { method: 'POST', body: JSON.stringify({ name: `bare-${i}` }), headers: { 'content-type': 'application/json' } })
  const { token } = await res.body.json() as { token: string }
  const ws = new WebSocket(`${url.replace('http', 'ws')}/events`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false })
  ws.on('message', (data: Buffer) => {
    const e = JSON.parse(data.toString()) as { seq?: number }
    if (typeof e.seq === 'number') events++
  })
  await new Promise(resolve => ws.once('open', resolve))
  sockets.push(ws)
}))
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
await sleep(1000)
const cpu0 = process.cpuUsage()
const events0 = events
const t0 = performance.now()
await sleep((Number(seconds) - 2) * 1000)
const cpu = process.cpuUsage(cpu0)
const window = { events: events - events0, cpuUs: cpu.user + cpu.system, seconds: (performance.now() - t0) / 1000 }
for (const ws of sockets) ws.terminate()
console.log(JSON.stringify(window))
