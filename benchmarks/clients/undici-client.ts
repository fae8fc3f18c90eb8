// The floor of any undici-based client: one undici Client per connection, each looping
// Client.dispatch with a handler that does nothing, in its own process. Prints the same JSON as
// the autocannon client (latency is not recorded: that is work this floor leaves out).
import { Client } from 'undici'

const [url, connections, seconds] = process.argv.slice(2)
const before = process.cpuUsage()
const end = performance.now() + Number(seconds) * 1000
let requests = 0
let failed = 0
await Promise.all(Array.from({ length: Number(connections) }, async () => {
  const client = new Client(url!, { pipelining: 1 })
  while (performance.now() < end) {
    await new Promise<void>((resolve) => {
      client.dispatch({ path: '/health', method: 'GET', headers: {} }, {
        onConnect () {},
        onHeaders (status: number) { if (status >= 400) failed++; return true },
        onData () { return true },
        onComplete () { requests++; resolve() },
        onError () { failed++; resolve() }
      })
    })
  }
  await client.close()
}))
const cpu = process.cpuUsage(before)
console.log(JSON.stringify({ requests, cpuUs: cpu.user + cpu.system, p50: 0, p99: 0, failed }))
