// What a `target` names: a URL, or a command crosstalk starts itself (`cmd:node server.js`, or
// the object form with env, cwd, a ready line and a fixed port). Parsed and checked here, so
// run(), the CLI, config files and compare read a target alike.

/** A server crosstalk starts: given a free port in $PORT (and HOST=127.0.0.1), stopped with its process group. */
export interface TargetCommand {
  /** run by `sh -c` when it has shell syntax, else directly (so its pid is the server's) */
  command: string
  /** added to crosstalk's environment */
  env?: Record<string, string>
  /** working directory (default: the run's cwd) */
  cwd?: string
  /**
   * ready when a stdout/stderr line holds this text (or matches it) instead of when the port
   * accepts a connection; an http URL in that line becomes the target (loopback only)
   */
  ready?: string | RegExp
  /** this port in $PORT instead of a free one */
  port?: number
}

export type TargetSpec =
  | { kind: 'url', url: string }
  | { kind: 'command', command: TargetCommand }

export const CMD_PREFIX = 'cmd:'

const COMMAND_KEYS = ['command', 'env', 'cwd', 'ready', 'port']

/** `target` as given (URL, `cmd:...`, object) -> its kind; problems are collected, not thrown. */
export function parseTargetSpec (target: string | TargetCommand, problems: string[]): TargetSpec | undefined {
  if (typeof target === 'string') {
    const s = target.trim()
    if (!s.startsWith(CMD_PREFIX)) return { kind: 'url', url: target }
    const command = s.slice(CMD_PREFIX.length).trim()
    if (command === '') {
      problems.push(`target '${target}': give the command that starts the server, e.g. cmd:node server.js (it gets a free port in PORT)`)
      return undefined
    }
    return { kind: 'command', command: { command } }
  }
  const before = problems.length
  checkCommandObject(target as unknown as Record<string, unknown>, problems)
  return problems.length > before ? undefined : { kind: 'command', command: target }
}

function checkCommandObject (t: Record<string, unknown>, problems: string[]): void {
  for (const key of Object.keys(t)) {
    if (!COMMAND_KEYS.includes(key)) problems.push(`target.${key} is not an option of a command target (use ${COMMAND_KEYS.join(', ')})`)
  }
  if (typeof t.command !== 'string' || t.command.trim() === '') problems.push('target.command must be the command that starts the server, e.g. \'node server.js\'')
  const env = t.env
  if (env !== undefined && (typeof env !== 'object' || env === null || Object.values(env).some(v => typeof v !== 'string'))) problems.push('target.env must be an object of strings')
  if (t.cwd !== undefined && typeof t.cwd !== 'string') problems.push('target.cwd must be a directory')
  if (t.ready !== undefined && !(typeof t.ready === 'string' && t.ready !== '') && !(t.ready instanceof RegExp)) problems.push('target.ready must be a text or a RegExp matching the line the server prints when ready')
  if (t.port !== undefined && !(Number.isInteger(t.port) && (t.port as number) >= 1 && (t.port as number) <= 65535)) problems.push('target.port must be a port number from 1 to 65535')
}
