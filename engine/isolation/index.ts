export { CohortIsolation } from './cohort-isolation.js'
export { Directory, encodeDirectory, type DirectoryEntry } from './directory.js'
export { IsolationAggregator, type ViolationDelta } from './violations.js'
