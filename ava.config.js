// Tests run the compiled JavaScript in dist/ (the same code the CLI runs).
// Load tests share two cores and one open-file limit: one file at a time, tests in a file in
// series, each file in its own process (memwatch must never load in a worker thread).
export default {
  files: ['dist/test/**/*.test.js'],
  workerThreads: false,
  concurrency: 1,
  serial: true,
  timeout: '3m',
  // every result a test produces (run(), the ava macro, the CLI, compare) is checked against
  // schema/report.schema.json (engine/report/schema-check.ts)
  environmentVariables: { CROSSTALK_SCHEMA_CHECK: '1' }
}
