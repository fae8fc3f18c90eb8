// Cleanups that must run however the process leaves: a second Ctrl-C or SIGTERM (`process.exit`),
// an uncaught error. Each is synchronous (an 'exit' listener cannot wait): kill a child's process
// group, remove a temporary file. An owner that closes normally removes its cleanup first.
const cleanups = new Set<() => void>()
let installed = false

function runAll (): void {
  for (const fn of cleanups) {
    try { fn() } catch { /* the others still run */ }
  }
  cleanups.clear()
}

/** Registers `fn` to run when the process exits; call the returned function to drop it. */
export function onProcessExit (fn: () => void): () => void {
  if (!installed) {
    installed = true
    process.on('exit', runAll)
  }
  cleanups.add(fn)
  return () => { cleanups.delete(fn) }
}
