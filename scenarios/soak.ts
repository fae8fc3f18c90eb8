// Soak: a steady stream of ordinary per-user requests, for leak detection between GC cycles.
// Every user reads its profile and its item and updates the item, with no think time, so the
// server's memory is exercised per operation while the heap is read every K operations.
import { defineScenario } from '../engine/index.js'

export default defineScenario<{ itemId: string }>({
  name: 'soak',
  description: 'steady per-user reads and writes for heap trend analysis (use with --leaks)',
  async setup (user) {
    const login = await user.http.post('/login', { json: { name: user.name }, name: 'login' })
    user.check(login.status === 200, 'logged in')
    const created = await user.http.post('/items', { json: { note: `note of ${user.name}`, value: 0 }, name: 'create item' })
    user.check(created.status === 201, 'item created')
    user.state.itemId = created.json<{ id: string }>().id
  },
  async iteration (user) {
    const me = await user.http.get('/me', { name: 'me' })
    user.check(me.status === 200, 'me readable')
    const path = `/items/${user.state.itemId}`
    const put = await user.http.put(path, { json: { value: user.iterations }, name: 'update item' })
    user.check(put.status === 200, 'item updated')
  },
  async teardown (user) {
    await user.http.post('/logout', { name: 'logout' })
  }
})
