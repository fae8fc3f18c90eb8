export { EXECUTOR_DEFAULTS, type ExecutorInput, type ExecutionPlan, type PlanOutcome } from './plan.js'
export { planExecution } from './plan-execution.js'
export { parseStages, valueAt, levelWindow, type Stage } from './profile.js'
export { ArrivalSchedule } from './arrival-schedule.js'
