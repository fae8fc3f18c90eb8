// Event dispatch at scale: every user holds one live /events socket for the whole run; the
// engine accounts each event (latency from the server's send stamp, gaps, duplicates, order)
// and reconciles every stream with the server at the end.
import { defineScenario, type UserSocket } from '../engine/index.js'

export default defineScenario<{ socket: UserSocket }>({
  name: 'events-rate',
  description: 'one live WebSocket per user; per-event latency, dispatch rate, loss, duplicates and order',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    // events are accounted as they arrive; nothing needs to queue them
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
