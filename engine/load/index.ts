export { EXECUTOR_DEFAULTS, type ExecutionPlan } from './plan.js'
export { planExecution } from './plan-execution.js'
export { parseStages, valueAt, levelWindow } from './profile.js'
export { ArrivalSchedule } from './arrival-schedule.js'
