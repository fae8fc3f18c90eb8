// Baseline vs candidate over interleaved rounds: per-metric bootstrap intervals, verdicts against
// budgets, isolation side by side, and the overall verdict. The result is compare.json.
import { ConfigError } from '../errors.js'
import { VIOLATION_KINDS, type IsolationSummary, type LeakReport, type RunResult, type RunStatus, type TargetStartup, type ViolationKind } from '../result/index.js'
import { bootstrapOptionProblems, bootstrapRounds, DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_SEED, type BootstrapResult } from './bootstrap.js'
import { resolveBudgets, type Budget, type BudgetSet } from './budget.js'
import { COMPARED_METRIC_DEFINITIONS, WINDOW_METRICS, worseSign, type ComparedMetric, type ComparedUnit, type Statistic } from './compared-metrics.js'
import { formatChange, formatConfidence, formatInterval, formatRelative } from './format.js'
import { changeDirection, isSignificant, judgeInterval, type ChangeDirection, type MetricVerdict, type OverallVerdict } from './verdict.js'
import { MIN_PAIRED_ROUNDS, pairedTInterval } from './paired-t.js'
import { extractWindows, DEFAULT_LATENCY_METRIC, DEFAULT_WARMUP_S, type LoadWindow } from './windows.js'

export const COMPARISON_SCHEMA_VERSION = 1

/** The parts of a RunResult a comparison reads (a RunResult is one). */
export type ComparableRun = Pick<RunResult, 'status' | 'timeSeries' | 'loadWindow'> & {
  runId?: string
  isolation: Pick<IsolationSummary, 'violations' | 'byKind'> & { forgedCanaries?: number }
  leaks?: Pick<LeakReport, 'bytesPerOp'> & Partial<Pick<LeakReport, 'ciLow' | 'ciHigh'>>
}

/** Round r: a baseline run and a candidate run adjacent in time. */
export interface ComparisonRound {
  baseline: ComparableRun
  candidate: ComparableRun
}

export interface CompareOptions {
  labels?: { baseline: string, candidate: string }
  /** budgets given (text as in `p95=+10%,throughput=-5%` or parsed); the others keep their defaults */
  budgets?: Partial<BudgetSet> | string | readonly string[]
  /** of the intervals (default 0.95) */
  confidence?: number
  /** bootstrap resamples (default 2000) */
  resamples?: number
  seed?: number
  /** whole seconds after the start of the load phase left out of each run (default 1) */
  warmupS?: number
  /** the trend that latency percentiles come from (default http.req.duration) */
  latencyMetric?: string
  /** why the comparison stopped early (a signal): the first reason; zero rounds are then allowed */
  interrupted?: string
}

export interface MetricComparison {
  metric: ComparedMetric
  unit: ComparedUnit
  better: 'lower' | 'higher'
  /** how each side's values were summarized (median of per-second windows; mean for error rate and heap slope) */
  statistic: Statistic
  /** the statistic of each side; null when there was no data */
  baseline: number | null
  candidate: number | null
  /** candidate - baseline: the mean of the per-round differences */
  diff: number | null
  diffCI: [number, number] | null
  /**
   * the geometric mean of the per-round candidate/baseline ratios minus 1 (diff / |baseline| when
   * a value is 0); null when the baseline statistic is 0 (or missing)
   */
  relative: number | null
  relativeCI: [number, number] | null
  /** as written, e.g. '+10%' */
  budget: string
  budgetKind: Budget['kind']
  verdict: MetricVerdict
  /** the interval of the change excludes 0 */
  significant: boolean
  direction: ChangeDirection
  /** rounds that contributed */
  rounds: number
  note?: string
}

export interface RunInfo {
  runId?: string
  status: RunStatus
  /** per-second windows used (after the warm-up) */
  windows: number
  violations: number
  bytesPerOp?: number
}

export interface RoundInfo {
  /** 1-based */
  round: number
  baseline: RunInfo
  candidate: RunInfo
}

export interface IsolationSide { violations: number, forgedCanaries: number }

export interface IsolationComparison {
  baseline: IsolationSide
  candidate: IsolationSide
  byKind: Array<{ kind: ViolationKind, baseline: number, candidate: number }>
  /** any violation in the candidate */
  regressed: boolean
}

export interface ComparisonResult {
  schemaVersion: typeof COMPARISON_SCHEMA_VERSION
  labels: { baseline: string, candidate: string }
  verdict: OverallVerdict
  /** why, one line each */
  reasons: string[]
  method: {
    rounds: number
    resamples: number
    confidence: number
    seed: number
    warmupS: number
    latencyMetric: string
    /** the name schemaVersion 1 gave it: rounds are resampled, a single round's windows */
    bootstrap: 'hierarchical-paired'
    /**
     * with a heapSlope row: its interval is Student's t on the per-round differences (n - 1
     * degrees of freedom); one round is 'too few rounds' (inconclusive)
     */
    heapSlopeInterval?: 'paired-t'
  }
  rounds: RoundInfo[]
  /** per-second windows used, summed over rounds */
  windows: { baseline: number, candidate: number }
  /** p50, p95, p99, throughput, errorRate, and heapSlope when every run measured leaks */
  metrics: MetricComparison[]
  isolation: IsolationComparison
  /** servers started from cmd: targets: time to listening and RSS after start, each side and candidate - baseline */
  startup?: {
    baseline?: TargetStartup
    candidate?: TargetStartup
    change?: { startMs: number, rssBytes?: number }
  }
}

interface Resolved {
  labels: { baseline: string, candidate: string }
  budgets: BudgetSet
  confidence: number
  resamples: number
  seed: number
  warmupS: number
  latencyMetric: string
}

function resolveOptions (o: CompareOptions): Resolved {
  const problems = bootstrapOptionProblems(o)
  if (o.warmupS !== undefined && !(Number.isFinite(o.warmupS) && o.warmupS >= 0)) problems.push(`warmupS must be a number of seconds >= 0, got ${o.warmupS}`)
  if (o.latencyMetric !== undefined && o.latencyMetric === '') problems.push('latencyMetric must be a metric name')
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    labels: o.labels ?? { baseline: 'baseline', candidate: 'candidate' },
    budgets: resolveBudgets(o.budgets),
    confidence: o.confidence ?? DEFAULT_CONFIDENCE,
    resamples: o.resamples ?? DEFAULT_RESAMPLES,
    seed: o.seed ?? DEFAULT_SEED,
    warmupS: o.warmupS ?? DEFAULT_WARMUP_S,
    latencyMetric: o.latencyMetric ?? DEFAULT_LATENCY_METRIC
  }
}

function finiteOrNull (v: number): number | null {
  return Number.isFinite(v) ? v : null
}

function finiteInterval (ci: [number, number]): [number, number] | null {
  return Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? ci : null
}

function noData (metric: ComparedMetric, budget: Budget, note: string): MetricComparison {
  const d = COMPARED_METRIC_DEFINITIONS[metric]
  return {
    metric,
    unit: d.unit,
    better: d.better,
    statistic: d.statistic,
    baseline: null,
    candidate: null,
    diff: null,
    diffCI: null,
    relative: null,
    relativeCI: null,
    budget: budget.text,
    budgetKind: budget.kind,
    verdict: 'inconclusive',
    significant: false,
    direction: 'same',
    rounds: 0,
    note
  }
}

/** A change with its intervals, from the bootstrap (window metrics) or the paired t-interval (heap slope). */
type Estimate = Pick<BootstrapResult, 'baseline' | 'candidate' | 'diff' | 'diffCI' | 'relative' | 'relativeCI' | 'rounds'>

function row (metric: ComparedMetric, budget: Budget, b: Estimate, note?: string): MetricComparison {
  const d = COMPARED_METRIC_DEFINITIONS[metric]
  const worse = worseSign(metric)
  const judged = budget.kind === 'relative' ? b.relativeCI : b.diffCI
  const baselineZero = b.baseline === 0
  const out: MetricComparison = {
    metric,
    unit: d.unit,
    better: d.better,
    statistic: d.statistic,
    baseline: b.baseline,
    candidate: b.candidate,
    diff: b.diff,
    diffCI: b.diffCI,
    relative: baselineZero ? null : finiteOrNull(b.relative),
    relativeCI: baselineZero ? null : finiteInterval(b.relativeCI),
    budget: budget.text,
    budgetKind: budget.kind,
    verdict: judgeInterval(judged, budget, worse),
    significant: isSignificant(b.diffCI),
    direction: changeDirection(b.diff, worse),
    rounds: b.rounds
  }
  if (note !== undefined) out.note = note
  return out
}

function windowValues (windows: LoadWindow[], metric: Exclude<ComparedMetric, 'heapSlope'>): number[] {
  const out: number[] = []
  for (const w of windows) {
    const v = w[metric]
    if (v !== null) out.push(v)
  }
  return out
}

/** A seed per metric, so adding or removing a metric leaves the others' intervals unchanged. */
function metricSeed (seed: number, i: number): number {
  return (seed + Math.imul(i + 1, 0x9e3779b9)) >>> 0
}

/**
 * The heap-slope change: one slope per run, so one difference per round, judged by a t-interval
 * on those differences (paired-t.ts: a bootstrap of 3 values covered the truth 76.5% of the time).
 * A single round has no spread between rounds: inconclusive, 'too few rounds'.
 */
function heapSlopeRow (rounds: readonly ComparisonRound[], budget: Budget, r: Resolved): MetricComparison {
  const pairs = rounds.map(x => ({ baseline: x.baseline.leaks!.bytesPerOp, candidate: x.candidate.leaks!.bytesPerOp }))
  if (!pairs.some(p => Number.isFinite(p.baseline) && Number.isFinite(p.candidate))) return noData('heapSlope', budget, 'no run measured a finite heap slope')
  const t = pairedTInterval(pairs, r.confidence)
  if (t.diffCI === null || t.relativeCI === null) {
    const note = `too few rounds: ${t.rounds} round with a heap slope on both sides gives no spread between rounds for a t-interval; ` +
      `run ${MIN_PAIRED_ROUNDS} or more (--rounds, 3 by default)`
    return {
      ...noData('heapSlope', budget, note),
      baseline: t.baseline,
      candidate: t.candidate,
      diff: t.diff,
      relative: t.baseline === 0 ? null : finiteOrNull(t.relative),
      direction: changeDirection(t.diff, worseSign('heapSlope')),
      rounds: t.rounds
    }
  }
  return row('heapSlope', budget, { ...t, diffCI: t.diffCI, relativeCI: t.relativeCI }, `t-interval on ${t.rounds} paired differences (${t.rounds - 1} df)`)
}

function isolationComparison (rounds: readonly ComparisonRound[]): IsolationComparison {
  const side = (pick: (x: ComparisonRound) => ComparableRun): IsolationSide => ({
    violations: rounds.reduce((n, x) => n + pick(x).isolation.violations, 0),
    forgedCanaries: rounds.reduce((n, x) => n + (pick(x).isolation.forgedCanaries ?? 0), 0)
  })
  const kindSum = (pick: (x: ComparisonRound) => ComparableRun, kind: ViolationKind): number =>
    rounds.reduce((n, x) => n + (pick(x).isolation.byKind[kind] ?? 0), 0)
  const candidate = side(x => x.candidate)
  return {
    baseline: side(x => x.baseline),
    candidate,
    byKind: VIOLATION_KINDS.map(kind => ({ kind, baseline: kindSum(x => x.baseline, kind), candidate: kindSum(x => x.candidate, kind) })),
    regressed: candidate.violations > 0
  }
}

/** The change and its interval in the budget's terms, for a reason line. */
function describe (m: MetricComparison, confidence: number): string {
  // a relative budget against a baseline of 0 has no finite relative change: show the absolute one
  const relative = m.budgetKind === 'relative' && m.relative !== null && m.relativeCI !== null
  const one = relative ? (v: number) => formatRelative(v) : (v: number) => formatChange(m.unit, v)
  const change = relative ? formatRelative(m.relative) : formatChange(m.unit, m.diff)
  return `${change} (${formatConfidence(confidence)} CI ${formatInterval(relative ? m.relativeCI : m.diffCI, one)})`
}

function kindsText (byKind: IsolationComparison['byKind'], side: 'baseline' | 'candidate'): string {
  return byKind.filter(k => k[side] > 0).map(k => `${k.kind} ${k[side]}`).join(', ')
}

/**
 * Compares a candidate with a baseline over interleaved rounds. Statistics are taken over the
 * per-second windows of each run's load phase (after the warm-up), never raw request counts;
 * intervals come from a bootstrap of the per-round changes (candidate against its own round's baseline).
 */
export function compareRounds (rounds: readonly ComparisonRound[], options: CompareOptions = {}): ComparisonResult {
  if (rounds.length === 0 && options.interrupted === undefined) throw new ConfigError('a comparison needs at least one round (a baseline run and a candidate run)')
  const r = resolveOptions(options)
  const windowOptions = { warmupS: r.warmupS, latencyMetric: r.latencyMetric }
  const windows = rounds.map(x => ({ baseline: extractWindows(x.baseline, windowOptions), candidate: extractWindows(x.candidate, windowOptions) }))
  const withLeaks = rounds.every(x => x.baseline.leaks !== undefined && x.candidate.leaks !== undefined)

  const failures: string[] = []
  const notes: string[] = []
  windows.forEach((w, i) => {
    const x = rounds[i]!
    if (w.candidate.length === 0) failures.push(`round ${i + 1}: the candidate run produced no load windows after the ${r.warmupS}s warm-up (status ${x.candidate.status})`)
    if (w.baseline.length === 0) notes.push(`round ${i + 1}: the baseline run produced no load windows after the ${r.warmupS}s warm-up (status ${x.baseline.status}); round left out`)
  })

  const metrics = windowMetricRows(windows, r)
  if (withLeaks) metrics.push(heapSlopeRow(rounds, r.budgets.heapSlope, r))
  const isolation = isolationComparison(rounds)
  judgeIsolation(isolation, failures, notes)
  const { verdict, reasons } = overallVerdict(metrics, failures, notes, r.confidence)
  if (options.interrupted !== undefined) reasons.unshift(options.interrupted)

  return {
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    labels: r.labels,
    verdict,
    reasons,
    method: {
      rounds: rounds.length,
      resamples: r.resamples,
      confidence: r.confidence,
      seed: r.seed,
      warmupS: r.warmupS,
      latencyMetric: r.latencyMetric,
      bootstrap: 'hierarchical-paired',
      ...(withLeaks && { heapSlopeInterval: 'paired-t' as const })
    },
    rounds: rounds.map((x, i) => ({ round: i + 1, baseline: runInfo(x.baseline, windows[i]!.baseline.length), candidate: runInfo(x.candidate, windows[i]!.candidate.length) })),
    windows: {
      baseline: windows.reduce((n, w) => n + w.baseline.length, 0),
      candidate: windows.reduce((n, w) => n + w.candidate.length, 0)
    },
    metrics,
    isolation
  }
}

type RoundWindows = Array<{ baseline: LoadWindow[], candidate: LoadWindow[] }>

/** One row per window metric: a bootstrap over the rounds' per-second windows, judged against its budget. */
function windowMetricRows (windows: RoundWindows, r: ReturnType<typeof resolveOptions>): MetricComparison[] {
  return WINDOW_METRICS.map((metric, i) => {
    const budget = r.budgets[metric]
    const samples = windows.map(w => ({ baseline: windowValues(w.baseline, metric), candidate: windowValues(w.candidate, metric) }))
    if (!samples.some(s => s.baseline.length > 0 && s.candidate.length > 0)) return noData(metric, budget, 'no round has windows with data on both sides')
    const boot = bootstrapRounds(samples, {
      resamples: r.resamples,
      confidence: r.confidence,
      seed: metricSeed(r.seed, i),
      statistic: COMPARED_METRIC_DEFINITIONS[metric].statistic
    })
    return row(metric, budget, boot)
  })
}

/** Any violation in the candidate fails it; the baseline's own violations are a note. */
function judgeIsolation (isolation: IsolationComparison, failures: string[], notes: string[]): void {
  if (isolation.regressed) {
    const base = isolation.baseline.violations
    failures.push(`the candidate has ${isolation.candidate.violations} isolation violation${isolation.candidate.violations === 1 ? '' : 's'} (${kindsText(isolation.byKind, 'candidate')}); the baseline ${base === 0 ? 'none' : `${base} (${kindsText(isolation.byKind, 'baseline')})`}`)
  } else if (isolation.baseline.violations > 0) {
    notes.push(`the baseline has ${isolation.baseline.violations} isolation violation${isolation.baseline.violations === 1 ? '' : 's'} (${kindsText(isolation.byKind, 'baseline')}); the candidate none`)
  }
}

/** fail when anything regressed, inconclusive when a metric could not be decided, else pass; with every reason. */
function overallVerdict (metrics: MetricComparison[], failures: string[], notes: string[], confidence: number): { verdict: OverallVerdict, reasons: string[] } {
  const inconclusive: string[] = []
  for (const m of metrics) {
    if (m.verdict === 'regressed') {
      failures.push(`${m.metric} regressed: ${describe(m, confidence)} is beyond the budget ${m.budget}`)
    } else if (m.verdict === 'inconclusive') {
      inconclusive.push(m.diffCI === null
        ? `${m.metric} inconclusive: ${m.note ?? 'no interval'}`
        : `${m.metric} inconclusive: ${describe(m, confidence)} reaches past the budget ${m.budget}`)
    }
  }
  if (failures.length > 0) return { verdict: 'fail', reasons: [...failures, ...inconclusive, ...notes] }
  if (inconclusive.length > 0) return { verdict: 'inconclusive', reasons: [...inconclusive, ...notes] }
  return { verdict: 'pass', reasons: [`all ${metrics.length} metrics within budget; no isolation violations in the candidate`, ...notes] }
}

function runInfo (run: ComparableRun, n: number): RunInfo {
  const out: RunInfo = { status: run.status, windows: n, violations: run.isolation.violations }
  if (run.runId !== undefined) out.runId = run.runId
  if (run.leaks !== undefined) out.bytesPerOp = run.leaks.bytesPerOp
  return out
}
