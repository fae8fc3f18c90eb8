// One leak-detection run of crosstalk in its own process; prints the leak report as JSON.
import { run } from '../../engine/index.js'

const [mode, url, inspectTarget, seconds] = process.argv.slice(2)
const r = await run(mode === 'fixture'
  ? { scenario: 'soak', fixture: true, users: 50, duration: `${seconds}s`, workers: 2, leaks: { everyOps: 1000 } }
  : { scenario: new URL('./health-scenario.js', import.meta.url), target: url, inspectTarget, users: 50, duration: `${seconds}s`, workers: 2, leaks: { everyOps: 1000 } })
console.log(JSON.stringify(r.leaks))
