// run() options: the typed input, defaults filled in one place, every problem found at once.
export { resolveRunOptions, defaultWorkers, DEFAULTS, type RunOptions, type RunProgress, type ResolvedRunOptions } from './run-options.js'
