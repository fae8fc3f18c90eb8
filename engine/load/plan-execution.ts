// Executor name -> its planner (k6's model: a validated config produces a plan).
import { planBreakpoint } from './breakpoint.js'
import { planConstantArrivalRate } from './constant-arrival-rate.js'
import { planConstantUsers } from './constant-users.js'
import { planRampingArrivalRate } from './ramping-arrival-rate.js'
import { planRampingUsers } from './ramping-users.js'
import { planSpike } from './spike.js'
import { EXECUTORS, type ExecutorName } from '../result/index.js'
import type { ExecutorInput, PlanOutcome } from './plan.js'

const PLANNERS: Record<ExecutorName, (input: ExecutorInput) => PlanOutcome> = {
  'constant-users': planConstantUsers,
  'ramping-users': planRampingUsers,
  'constant-arrival-rate': planConstantArrivalRate,
  'ramping-arrival-rate': planRampingArrivalRate,
  spike: planSpike,
  breakpoint: planBreakpoint
}

export function planExecution (input: ExecutorInput): PlanOutcome {
  const planner = PLANNERS[input.executor]
  if (planner === undefined) return { plan: null, problems: [`unknown executor '${String(input.executor)}' (use ${EXECUTORS.join(', ')})`] }
  return planner(input)
}
