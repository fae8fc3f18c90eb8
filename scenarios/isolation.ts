// Isolation under real concurrency: every user marks what it writes with its own canaries,
// then all users hit the server in the same instant (burst barrier), read their data back,
// and probe other users' resources (id swap) and their own with another user's credentials.
// Any canary of another user in a response or event, any probe that gets through, any read
// that lost the user's write is a violation with evidence.
import { defineScenario, type UserSocket } from '../engine/index.js'

interface Item { id: string, owner: string, note: string, value: unknown }

export default defineScenario<{ itemId: string, socket: UserSocket }>({
  name: 'isolation',
  description: 'canaries in profile, items and events; burst reads; IDOR and credential probes; read-your-writes',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name, note: user.canary('profile') }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    const created = await user.http.post('/items', { json: { note: user.canary('item'), value: 0 }, name: 'create item' })
    user.check(created.status === 201, 'item created')
    const item = created.json<Item>()
    user.state.itemId = item.id
    user.own('items', item.id)
    user.writes.record('item.value', 0)
    user.state.socket = await user.ws('/events', { protocol: 'crosstalk' }) // its frames are scanned as they arrive
  },
  async iteration (user) {
    const path = `/items/${user.state.itemId}`
    await user.barrier('burst') // everyone at once: races in shared server state fire here
    const me = await user.http.get('/me', { name: 'me' })
    user.check(me.status === 200, 'me readable')
    const list = await user.http.get('/items', { name: 'list items' })
    user.check(list.status === 200, 'items listable')

    const value = user.iterations + 1
    const put = await user.http.put(path, { json: { value }, name: 'update item' })
    if (put.ok) user.writes.record('item.value', value)
    const got = await user.http.get(path, { name: 'get item' })
    if (got.ok) user.writes.verify('item.value', got.json<Item>().value, path)

    await user.probe.foreign('/items/:id')
    await user.probe.asOther(path)
    user.state.socket.drain()
  },
  async teardown (user) {
    await user.state.socket.close()
    await user.http.post('/logout', { name: 'logout' })
  }
})
