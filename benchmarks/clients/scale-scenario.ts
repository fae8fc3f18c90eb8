// Holding many users: each logs in (session cookie), closes its HTTP connection, then holds one
// /events WebSocket for the whole run. Closing the connection after login keeps each user at one
// file descriptor (the socket), so 10,000 users fit the 20,000 open-file limit of one process;
// the cookie stays in the user's jar and goes with the WebSocket handshake.
//
// For the memory figure, each worker thread answers a 'measure' request on a BroadcastChannel
// with its V8 heap after a full GC (node:inspector works in worker threads).
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'
import { Session } from 'node:inspector/promises'
import { defineScenario, type UserSocket } from '../../engine/index.js'

export const MEASURE_CHANNEL = 'crosstalk-bench-scale'

export interface ThreadHeap { threadId: number, usedHeap: number, external: number, gcMs: number }

if (!isMainThread) {
  const channel = new BroadcastChannel(MEASURE_CHANNEL)
  channel.unref()
  channel.onmessage = (e) => {
    if ((e as MessageEvent).data !== 'measure') return
    void (async () => {
      const t = performance.now()
      const session = new Session()
      session.connect()
      try {
        await session.post('HeapProfiler.collectGarbage')
      } finally {
        session.disconnect()
      }
      const h = getHeapStatistics()
      const reply: ThreadHeap = { threadId, usedHeap: h.used_heap_size, external: h.external_memory, gcMs: performance.now() - t }
      channel.postMessage(reply)
    })()
  }
}

export default defineScenario<{ socket: UserSocket }>({
  name: 'bench-scale',
  description: 'login, close the HTTP connection, hold one /events WebSocket',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    await user.http.close()
    // events are rare here and accounted as they arrive: nothing needs to queue them
    user.state.socket = await user.ws('/events', { inbox: 0, protocol: 'crosstalk' })
  },
  async iteration (user) {
    await user.sleep(1000)
    user.check(user.state.socket.open, 'socket open')
  },
  async teardown (user) {
    await user.state.socket.close()
  }
})
