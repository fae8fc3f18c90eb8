// `crosstalk/ava`: a macro that runs a scenario inside an ava test.
//   import test from 'ava'
//   import { loadTest } from 'crosstalk/ava'
//   test('items hold under 1000 users', loadTest, { scenario: 'items', target: 'cmd:node server.js', users: 1000, duration: '5s' })
import type { ExecutionContext } from 'ava'
import { formatFailureReport, formatSummary } from './report/index.js'
import type { RunOptions } from './options/index.js'
import type { RunResult } from './result/index.js'
import { run } from './runner/index.js'

export interface LoadTestOptions extends RunOptions {
  /** further assertions on the result, after the built-in ones */
  assert?: (t: ExecutionContext, result: RunResult) => void | Promise<void>
}

/** Why a run should fail a test: lost users, errors, failed checks, an interrupt, other failures. */
export function loadTestProblems (result: RunResult): string[] {
  const problems = [...result.failures]
  if (result.status === 'interrupted') problems.push('run was interrupted')
  return problems
}

export async function loadTest (t: ExecutionContext, options: LoadTestOptions): Promise<void> {
  const { assert, ...runOptions } = options
  const result = await run(runOptions)
  t.log(formatSummary(result))
  // the message says what failed and where: checks with their scenario line, thresholds with their value
  t.deepEqual(loadTestProblems(result), [], formatFailureReport(result))
  await assert?.(t, result)
}
