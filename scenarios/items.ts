// Per-user HTTP CRUD: each user logs in, owns one item, and reads, updates and lists it.
import { defineScenario } from '../engine/index.js'

interface Item { id: string, owner: string, note: string, value: unknown, version: number }

export default defineScenario<{ itemId: string }>({
  name: 'items',
  description: 'per-user HTTP CRUD: login, create an item, then get, update and list it',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    const created = await user.http.post('/items', { json: { note: `note of ${user.name}` }, name: 'create item' })
    user.check(created.status === 201, 'item created')
    user.state.itemId = created.json<Item>().id
  },
  async iteration (user) {
    const path = `/items/${user.state.itemId}`
    const got = await user.http.get(path, { name: 'get item' })
    user.check(got.status === 200 && got.json<Item>().owner === user.name, 'own item readable')
    const put = await user.http.put(path, { json: { note: `note of ${user.name}`, value: user.iterations }, name: 'update item' })
    user.check(put.status === 200 && put.json<Item>().value === user.iterations, 'own item updated')
    const list = await user.http.get('/items', { name: 'list items' })
    const items = list.json<{ items: Item[] }>().items
    user.check(list.status === 200 && items.length === 1 && items[0]!.owner === user.name, 'list shows only own item')
  },
  async teardown (user) {
    await user.http.post('/logout', { name: 'logout' })
  }
})
