// `scenarios: { browse: { scenario, executor, stages, ... }, chat: { ..., startTime: '2s' } }`:
// several scenarios in one run, each planned by the executor planner as the single-scenario form
// is, and combined into the one plan the run's controller and deadlines follow. Every problem of
// every entry is recorded at once, each prefixed with its entry.
import { parseStages, planExecution, type ExecutionPlan } from '../load/index.js'
import type { ExecutorName, ProfilePoint } from '../result/index.js'
import { ThresholdMetricError } from '../errors.js'
import { splitKey } from '../metrics/index.js'
import { parseDuration } from '../shared/index.js'
import type { Threshold } from '../thresholds/index.js'
import { isPlainObject } from './kinds.js'
import type { Problems } from './problems.js'

/** One entry of `scenarios`, as run() and a config file take it. */
export interface ScenarioEntryOptions {
  /** built-in scenario name, file path or file URL (relative paths: to `cwd`) */
  scenario: string | URL
  executor?: ExecutorName
  users?: number
  maxUsers?: number
  peakUsers?: number
  startUsers?: number
  rate?: number
  startRate?: number
  stages?: string | Array<{ duration: string | number, target: number }>
  duration?: string | number
  iterations?: number
  /** offset from the start barrier before this scenario's load begins (k6's startTime); default 0 */
  startTime?: string | number
  /** tags of everything this scenario records (reported with the scenario) */
  tags?: Record<string, string>
}

export interface ResolvedScenarioEntry {
  /** the entry's key: its metrics' `scenario` tag */
  name: string
  scenario: string | URL
  plan: ExecutionPlan
  startTimeMs: number
  tags: Record<string, string>
}

/** Options a plan sets per entry: given at the top level with `scenarios`, they are a conflict. */
export const PER_SCENARIO_OPTIONS = ['scenario', 'executor', 'users', 'maxUsers', 'peakUsers', 'startUsers', 'rate', 'startRate', 'stages', 'duration', 'iterations'] as const
const ENTRY_KEYS = new Set<string>([...PER_SCENARIO_OPTIONS, 'startTime', 'tags'])
/** a scenario name is a tag value in metric keys: no `,` `:` `{` `}` nor spaces */
const NAME = /^[A-Za-z0-9_][\w.-]{0,63}$/

/** The entries of `scenarios`, planned; null when none reads (the problems are recorded). */
export function resolveScenarioEntries (input: Record<string, unknown>, problems: Problems): ResolvedScenarioEntry[] | null {
  const conflicts = PER_SCENARIO_OPTIONS.filter(k => input[k] !== undefined)
  if (conflicts.length > 0) problems.add(`scenarios: ${conflicts.join(', ')} cannot be given with scenarios; set them in each scenario's entry`)
  const all = input.scenarios
  if (!isPlainObject(all) || Object.keys(all).length === 0) {
    problems.add("scenarios must be an object of named entries like { browse: { scenario: './browse.mjs', executor: 'constant-users', users: 10 } }")
    return null
  }
  const out: ResolvedScenarioEntry[] = []
  for (const [name, entry] of Object.entries(all)) {
    const resolved = resolveEntry(name, entry, (p: string) => problems.add(`scenarios.${name}: ${p}`))
    if (resolved !== null) out.push(resolved)
  }
  return out.length === Object.keys(all).length ? out : null
}

function resolveEntry (name: string, entry: unknown, problem: (p: string) => void): ResolvedScenarioEntry | null {
  const before = { n: 0 }
  const add = (p: string): void => { before.n++; problem(p) }
  if (!NAME.test(name)) add('a scenario name is letters, digits, _ . - (it is the `scenario` tag of its metrics)')
  if (!isPlainObject(entry)) {
    add("must be an object like { scenario: './chat.mjs', executor: 'constant-users', users: 10 }")
    return null
  }
  for (const k of Object.keys(entry)) if (!ENTRY_KEYS.has(k)) add(`unknown option '${k}' (an entry takes ${[...ENTRY_KEYS].join(', ')})`)
  const e = entry as Partial<ScenarioEntryOptions>
  if (typeof e.scenario !== 'string' && !(e.scenario instanceof URL)) add('scenario: give the scenario file (or built-in name) this entry runs')
  const ms = (what: string, v: string | number): number | null => {
    try {
      return parseDuration(v, what)
    } catch (err) {
      add((err as Error).message)
      return null
    }
  }
  const startTimeMs = e.startTime === undefined || e.startTime === 0 || e.startTime === '0' || e.startTime === '0s' ? 0 : ms('startTime', e.startTime)
  if (e.tags !== undefined && (!isPlainObject(e.tags) || Object.values(e.tags).some(v => typeof v !== 'string'))) add('tags must be an object of strings')
  const plan = planExecutorOptions(e, e.duration === undefined ? null : ms('duration', e.duration), add)
  // a breakpoint run stops everything at the load where the target broke: no plan of several
  if (plan?.stopAtFirstFailure === true) add('the breakpoint executor runs alone, not in a plan of several scenarios')
  if (before.n > 0 || plan === null || startTimeMs === null) return null
  return { name, scenario: e.scenario!, plan, startTimeMs, tags: e.tags ?? {} }
}

/** The executor options a run and each plan entry take alike. */
export type ExecutorOptions = Partial<Pick<ScenarioEntryOptions, 'executor' | 'users' | 'maxUsers' | 'peakUsers' | 'startUsers' | 'rate' | 'startRate' | 'stages' | 'iterations'>>

/** Plans one executor from its options (`durationMs` null: the executor's own default, none with iterations); problems go to `add`. */
export function planExecutorOptions (o: ExecutorOptions, durationMs: number | null, add: (p: string) => void): ExecutionPlan | null {
  const stageProblems: string[] = []
  const planned = planExecution({
    executor: o.executor ?? 'constant-users',
    users: o.users ?? null,
    maxUsers: o.maxUsers ?? null,
    peakUsers: o.peakUsers ?? null,
    startUsers: o.startUsers ?? null,
    rate: o.rate ?? null,
    startRate: o.startRate ?? null,
    stages: o.stages === undefined ? null : parseStages(o.stages, stageProblems),
    durationMs,
    iterations: o.iterations ?? null
  })
  for (const p of [...stageProblems, ...planned.problems]) add(p)
  return planned.plan
}

/**
 * The plan the run as a whole follows: users add up (cohorts are planned per entry), the load
 * phase lasts until the last entry's ends (its startTime + duration), an entry bound only by
 * iterations leaves the whole bound by maxDuration. The executor shown is the first entry's.
 */
export function combinedPlan (entries: readonly ResolvedScenarioEntry[], maxDurationMs: number): ExecutionPlan {
  const first = entries[0]!.plan
  const timed = entries.every(e => e.plan.durationMs !== null)
  const end = Math.max(...entries.map(e => e.startTimeMs + (e.plan.durationMs ?? maxDurationMs)))
  return {
    ...first,
    profile: combinedProfile(entries),
    maxUsers: entries.reduce((n, e) => n + e.plan.maxUsers, 0),
    preAllocatedUsers: entries.reduce((n, e) => n + e.plan.preAllocatedUsers, 0),
    durationMs: timed ? end : null,
    iterations: entries.some(e => e.plan.iterations !== null) ? Math.max(...entries.map(e => e.plan.iterations ?? 0)) : null,
    stopAtFirstFailure: false,
    params: { scenarios: entries.map(e => e.name).join(', ') }
  }
}

/** The first entry's profile, shifted by its startTime (the report's top-level executor). */
function combinedProfile (entries: readonly ResolvedScenarioEntry[]): ProfilePoint[] {
  const first = entries[0]!
  return first.plan.profile.map(p => ({ atMs: p.atMs + first.startTimeMs, value: p.value }))
}

/** How long the whole load phase may run: the bound of an iteration-only entry counts from its startTime. */
export function planMaxDurationMs (entries: readonly ResolvedScenarioEntry[], maxDurationMs: number): number {
  return Math.max(maxDurationMs, ...entries.map(e => e.startTimeMs + Math.min(e.plan.durationMs ?? maxDurationMs, maxDurationMs)))
}

/**
 * A threshold on `{scenario:x}` is judged on scenario x's own metrics: x must be an entry of
 * `scenarios` (a misspelled name would otherwise be judged on no data).
 */
export function checkScenarioThresholds (thresholds: readonly Threshold[], entries: readonly ResolvedScenarioEntry[] | null, problems: Problems): void {
  const names = entries?.map(e => e.name) ?? []
  for (const t of thresholds) {
    const name = splitKey(t.key).tags.scenario
    if (name === undefined || names.includes(name)) continue
    problems.addError(new ThresholdMetricError(entries === null
      ? `threshold '${t.key}' names scenario '${name}', but this run has no scenarios: a {scenario:...} tag needs a plan of several (the scenarios option)`
      : `threshold '${t.key}' names scenario '${name}', which is not one of this run's scenarios (${names.join(', ')})`))
  }
}
