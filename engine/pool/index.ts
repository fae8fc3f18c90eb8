export { planCohorts, planCohortsFor, MIN_COHORT, MAX_COHORT } from './cohorts.js'
export { ErrorGroups } from './error-groups.js'
export { CohortRunner, type CohortRunnerOptions, type CohortOutcome } from './cohort-runner.js'
export type { CohortSpec, CohortPlan, CohortTask, CohortResult, WorkerMessage } from './messages.js'
