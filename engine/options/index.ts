// run() options: the typed input, one table of every option (flags, config keys, defaults, docs),
// defaults filled in one place, every problem found at once.
export { resolveRunOptions, checkRunOptions, withScenarioMetrics, type RunOptions, type RunProgress, type ResolvedRunOptions } from './run-options.js'
export { RUN_OPTION_TABLE, DEFAULT_OUT, runOptionRow, flagText, flagHelp, type RunOptionRow } from './option-table.js'
export { checkOptionValues } from './check-values.js'
export { runOptionsFromFlags, type FlagValue, type FlagValues } from './from-flags.js'
export { Problems } from './problems.js'
export { planMaxDurationMs, type ResolvedScenarioEntry } from './scenario-plans.js'
export { RUN_SECRET_ENV, MIN_SECRET_CHARS } from './distributed-options.js'
export { RUN_ID } from './option-table.js'
