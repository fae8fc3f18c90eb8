// Per-user WebSocket: each user holds a live /events socket and checks every event is its own.
import { defineScenario, type UserSocket } from '../engine/index.js'

interface Event { type: string, stream: string, seq: number, owner: string }

export default defineScenario<{ socket: UserSocket }>({
  name: 'events',
  description: 'per-user WebSocket: login, open /events, receive own events, echo round trip',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    user.state.socket = await user.ws('/events', { protocol: 'crosstalk' })
  },
  async iteration (user) {
    const socket = user.state.socket
    const event = (await socket.waitFor(m => m.json<Event>().type === 'event', 5000)).json<Event>()
    user.check(event.owner === user.name, 'event is own')
    socket.send({ type: 'echo', n: user.iterations })
    const echo = (await socket.waitFor(m => m.json<{ type: string }>().type === 'echo', 5000)).json<{ user: string, n: number }>()
    user.check(echo.user === user.name && echo.n === user.iterations, 'echo is own')
  },
  async teardown (user) {
    await user.state.socket.close()
    await user.http.post('/logout', { name: 'logout' })
  }
})
