// A minimal server for the leak benchmark that retains about `--leak-bytes` + 16 bytes per
// request (one flat string kept in a module-level array). Started with
// --inspect=127.0.0.1:0; prints {url, inspector} as one JSON line.
import { createServer } from 'node:http'
import inspector from 'node:inspector'

const leakChars = Number(process.argv[2] ?? 84)
const kept: string[] = []
let n = 0
const server = createServer((_req, res) => {
  // a flat (sequential) string: 16 bytes of header + one byte per character, plus its array slot
  if (leakChars > 0) kept.push((String(++n) + '~'.repeat(leakChars)).slice(0, leakChars))
  res.setHeader('content-type', 'application/json')
  res.end('{"ok":true}')
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, inspector: inspector.url() }))
})
process.on('SIGTERM', () => process.exit(0))
