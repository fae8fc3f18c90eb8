// Where the scenario's own code is in a stack: the first frame outside crosstalk and Node, so an
// error or a failed check points at the user's file and line, not into the engine.

/** crosstalk's own files and Node's: a frame in them is not the scenario's */
const ENGINE_FRAME = /\/(dist\/)?engine\/|node_modules\/|\(node:|^\s*at node:|<anonymous>/

/** `file:line:column` of the first stack frame in the scenario's own code, if the error came through it. */
export function scenarioFrame (err: unknown): string | undefined {
  const stack = (err as { stack?: unknown } | undefined)?.stack
  if (typeof stack !== 'string') return undefined
  for (const line of stack.split('\n').slice(1, 12)) {
    if (!line.trimStart().startsWith('at ') || ENGINE_FRAME.test(line)) continue
    const where = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line)?.[1]
    if (where !== undefined) return where.replace(/^file:\/\//, '')
  }
  return undefined
}
