// The notes service under 1000 users, as an ava test: crosstalk starts the server, logs every
// user in with its own account and fails the test on any leak of one user's notes to another.
//   npx ava examples/own-server/notes.test.mjs --config examples/own-server/ava.config.mjs
import test from 'ava'
import { fileURLToPath } from 'node:url'
import { loadTest } from 'crosstalk/ava'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

// serial: one load test at a time on a small machine
test.serial('notes stay private under 1000 users', loadTest, {
  scenario: here('./notes.mjs'),
  target: { command: 'node server.mjs', cwd: here('.') },
  usersFile: here('./users.csv'),
  users: 1000,
  duration: '5s',
  out: null,
  // what must hold however busy the machine is; add latency thresholds from what yours measures
  thresholds: { 'isolation.violations': ['count==0'], 'checks{check:notes listed}': ['rate==1'], 'http.req.failed': ['rate<0.01'] }
})
