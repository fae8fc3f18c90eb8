// Scanning benchmark: every response carries the user's own canary (its profile note), so the
// scanner finds, parses and dismisses one canary per response.
import { defineScenario } from '../../engine/index.js'

export default defineScenario({
  name: 'bench-me',
  async setup (user) {
    await user.http.post('/login', { json: { name: user.name, note: user.canary('note') } })
  },
  async iteration (user) {
    await user.http.get('/me')
  }
})
