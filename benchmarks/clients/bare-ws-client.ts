// The peer for event dispatch: a bare `ws` client loop. Logs each user in, opens one socket per
// user and parses every frame, nothing else. Prints {events, cpuUs, seconds}.
import WebSocket from 'ws'
import { request } from 'undici'

const [url, users, seconds] = process.argv.slice(2)
const n = Number(users)
const before = process.cpuUsage()
const started = performance.now()
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
await new Promise(resolve => setTimeout(resolve, Number(seconds) * 1000))
for (const ws of sockets) ws.terminate()
const cpu = process.cpuUsage(before)
console.log(JSON.stringify({ events, cpuUs: cpu.user + cpu.system, seconds: (performance.now() - started) / 1000 }))
