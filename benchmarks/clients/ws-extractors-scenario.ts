// Plain-WebSocket receive path with extractors: the fixture's /events read as any server's stream
// (no crosstalk protocol, so no end-of-run reconciliation); each frame is scanned, parsed once and
// accounted from its own fields.
import { defineScenario, type UserSocket, type WsMessage } from '../../engine/index.js'

interface FixtureEvent { stream?: string, seq?: number, t?: number }
const json = (m: WsMessage): FixtureEvent => m.json<FixtureEvent>()

export default defineScenario<{ socket: UserSocket }>({
  name: 'bench-ws-extractors',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    user.state.socket = await user.ws('/events', {
      inbox: 0,
      events: { stream: m => json(m).stream, seq: m => json(m).seq, sentAt: m => json(m).t, clock: 'monotonic-us' }
    })
  },
  async iteration (user) {
    await user.sleep(1000)
    user.check(user.state.socket.open, 'socket open')
  },
  async teardown (user) {
    await user.state.socket.close()
  }
})
