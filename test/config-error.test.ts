// ConfigError lists its problems one per line, as the CLI prints them.
import test from 'ava'
import { ConfigError, InternalError, UsageError } from '../engine/index.js'

test('one problem is the message itself', t => {
  const err = new ConfigError('users must be a positive integer (got 0)')
  t.is(err.message, 'users must be a positive integer (got 0)')
  t.deepEqual(err.problems, ['users must be a positive integer (got 0)'])
  t.deepEqual([err.code, err.exitCode], ['CT_ERR_CONFIG', 2])
})

test('several problems: a count, then one indented line each', t => {
  const err = new ConfigError(['unknown option \'bogus\'', 'workers must be an integer from 1 to 64 (got 99)'])
  t.is(err.message, '2 problems:\n  - unknown option \'bogus\'\n  - workers must be an integer from 1 to 64 (got 99)')
  t.is(err.problems.length, 2)
})

test('usage errors exit 2, internal errors 1', t => {
  t.deepEqual([new UsageError('x').code, new UsageError('x').exitCode], ['CT_ERR_USAGE', 2])
  t.deepEqual([new InternalError('x').code, new InternalError('x').exitCode], ['CT_ERR_INTERNAL', 1])
})
