// One autocannon run in its own process; prints {requests, cpuUs, p50, p99} as JSON.
import autocannon from 'autocannon'

const [url = '', connections, seconds] = process.argv.slice(2)
const before = process.cpuUsage()
const result = await autocannon({ url, connections: Number(connections), duration: Number(seconds) })
const cpu = process.cpuUsage(before)
console.log(JSON.stringify({ requests: result.requests.total, cpuUs: cpu.user + cpu.system, p50: result.latency.p50, p99: result.latency.p99, failed: result.non2xx + result.errors }))
