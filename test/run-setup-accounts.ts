// The scenario of test/run-setup.test.ts, in TypeScript so the build checks the typing: `before`'s
// return type is `user.run.data` in every step and `after`'s `data`, with no annotation.
import { defineScenario } from '../engine/index.js'

interface Account { id: string, owner: number }

export default defineScenario({
  name: 'accounts',
  async before (run) {
    const accounts: Account[] = []
    for (let owner = 0; owner < run.users; owner++) {
      const res = await run.http.post('/accounts', { json: { owner } })
      if (res.status !== 201) throw new Error(`POST /accounts answered ${res.status}`)
      accounts.push({ id: res.json<{ id: string }>().id, owner })
    }
    return { accounts, runId: run.runId, baseUrl: run.baseUrl }
  },
  async setup (user) {
    const account = user.run.data.accounts[user.id]
    if (account === undefined) throw new Error(`no account for user ${user.id}`)
    const res = await user.http.get(`/accounts/${account.id}`, { headers: { 'x-user': String(user.id) }, name: 'read account' })
    if (res.status !== 200) throw new Error(`own account unreadable: ${res.status}`)
    user.state.account = account.id
  },
  async iteration (user) {
    const data = user.run.data
    user.check(data.runId === user.runId, 'run data of this run')
    user.check(Object.isFrozen(data) && Object.isFrozen(data.accounts) && Object.isFrozen(data.accounts[0]), 'run data frozen')
    const res = await user.http.get(`/accounts/${String(user.state.account)}`, { headers: { 'x-user': String(user.id) }, name: 'read account' })
    user.check(res.status === 200 && res.json<Account>().owner === user.id, 'own account')
  },
  async after (run, data) {
    for (const a of data.accounts) {
      const res = await run.http.delete(`/accounts/${a.id}`)
      if (res.status !== 204) throw new Error(`DELETE /accounts/${a.id} answered ${res.status}`)
    }
  }
})
