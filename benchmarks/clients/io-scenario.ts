// Socket.IO receive path: every user logs in and holds one socket.io-client socket for the whole
// run; each `event` is scanned and accounted with extractors (latency, gaps, duplicates, order).
import { defineScenario, type IoEvent, type IoSocket } from '../../engine/index.js'

interface FixtureEvent { stream: string, seq: number, t: number }
const data = (e: IoEvent): FixtureEvent => e.data as FixtureEvent

export default defineScenario<{ io: IoSocket }>({
  name: 'bench-io',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    const { token } = login.json<{ token: string }>()
    // inbox 0: events are accounted as they arrive; nothing awaits them
    user.state.io = await user.io('/', {
      auth: { token },
      inbox: 0,
      events: { event: { stream: e => data(e).stream, seq: e => data(e).seq, sentAt: e => data(e).t, clock: 'monotonic-us' } }
    })
  },
  async iteration (user) {
    await user.sleep(1000)
    user.check(user.state.io.connected, 'socket connected')
  },
  async teardown (user) {
    await user.state.io.close()
  }
})
