// Is anything listening there? One TCP connection opened and closed, bounded.
import { connect } from 'node:net'
import { TargetUnreachableError } from '../errors.js'

/** Opens and closes one TCP connection, so an unreachable target fails before any worker starts. */
export function probeTcp (url: URL, timeoutMs = 3000): Promise<void> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    const fail = (why: string): void => {
      socket.destroy()
      reject(new TargetUnreachableError(`target ${url.host} is unreachable: ${why}`))
    }
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`))
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message))
    socket.once('connect', () => { socket.end(); resolve() })
  })
}
