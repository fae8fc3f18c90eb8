// The default job (`npm start`): every user logs in, owns an item and a live /events socket,
// then reads and updates its item while its events stream in; everything it receives must be its own.
import { defineScenario, type UserSocket } from '../engine/index.js'

interface Item { id: string, owner: string, value: unknown }

export default defineScenario<{ itemId: string, socket: UserSocket }>({
  name: 'default',
  description: 'mixed HTTP CRUD and WebSocket events per user',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    const created = await user.http.post('/items', { json: { note: `note of ${user.name}` }, name: 'create item' })
    user.check(created.status === 201, 'item created')
    user.state.itemId = created.json<Item>().id
    user.state.socket = await user.ws('/events', { protocol: 'crosstalk' })
  },
  async iteration (user) {
    const path = `/items/${user.state.itemId}`
    const got = await user.http.get(path, { name: 'get item' })
    user.check(got.status === 200 && got.json<Item>().owner === user.name, 'own item readable')
    const put = await user.http.put(path, { json: { value: user.iterations }, name: 'update item' })
    user.check(put.status === 200 && put.json<Item>().value === user.iterations, 'own item updated')
    for (const m of user.state.socket.drain()) {
      user.check(m.json<{ owner: string }>().owner === user.name, 'event is own')
    }
  },
  async teardown (user) {
    await user.state.socket.close()
    await user.http.post('/logout', { name: 'logout' })
  }
})
