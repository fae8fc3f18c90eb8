// A tiny process that outlives nobody: spawned (detached) by crosstalk with a pipe on its stdin
// and the process group of a server crosstalk started. When the pipe closes, because crosstalk
// exited in any way, SIGKILL included, it stops that group (SIGTERM, then SIGKILL after 3 s) and
// exits. It also exits once the group is gone. It imports nothing, so it starts fast.
//   node supervisor.js <pgid>
const pgid = Number(process.argv[2])
const GRACE_MS = 3000

function alive (): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

function signalGroup (sig: NodeJS.Signals): void {
  try { process.kill(-pgid, sig) } catch { /* already gone */ }
}

function stopGroup (): void {
  signalGroup('SIGTERM')
  const started = Date.now()
  setInterval(() => {
    if (!alive()) process.exit(0)
    if (Date.now() - started > GRACE_MS) {
      signalGroup('SIGKILL')
      process.exit(0)
    }
  }, 100)
}

if (!Number.isInteger(pgid) || pgid <= 1) process.exit(2)
// a Ctrl-C meant for crosstalk must not end the watch before crosstalk has stopped the server
process.on('SIGINT', () => {})
process.stdin.on('data', () => {})
process.stdin.once('close', stopGroup)
process.stdin.once('end', stopGroup)
setInterval(() => { if (!alive()) process.exit(0) }, 1000)
