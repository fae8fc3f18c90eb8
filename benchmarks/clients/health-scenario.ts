// The benchmark's request: the same GET autocannon sends, from each user's own connection.
import { defineScenario } from '../../engine/index.js'

export default defineScenario({
  name: 'bench-health',
  async iteration (user) {
    await user.http.get('/health')
  }
})
