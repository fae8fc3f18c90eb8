// Each user logs in with its own account (a row of users.csv), writes notes carrying its canary,
// reads its notes back, and tries what must be denied: another user's note by id.
import { defineScenario } from 'crosstalk'

export default defineScenario({
  name: 'notes',
  async setup (user) {
    const res = await user.http.post('/login', { name: 'login', json: { email: user.data.email, password: user.data.password } })
    user.check(res.status === 200, 'logged in')
    // published before the start: other users' probes try to read this note with their sessions
    const first = await user.http.post('/notes', { name: 'add note', json: { text: user.canary() } })
    user.own('notes', first.json().id)
  },
  async iteration (user) {
    await user.http.post('/notes', { name: 'add note', json: { text: user.canary() } })
    const mine = await user.http.get('/notes', { name: 'my notes' })
    user.check(mine.status === 200, 'notes listed')
    await user.probe.foreign('/notes/:id') // another user's note with my session: must be 404
    await user.sleep(100)
  },
  async teardown (user) {
    await user.http.post('/logout', { name: 'logout' })
  }
})
