// `compare()`: the same scenario against a baseline and a candidate, interleaved in rounds
// (B C, C B, B C, ...) so machine drift falls on both sides alike, or two earlier reports; then
// statistics on per-second windows (compare-rounds.ts) and compare.json + compare.md + compare.html.
import { join } from 'node:path'
import { ConfigError, InternalError } from '../errors.js'
import type { RunResult } from '../result/index.js'
import { redact, redactUrl, writeFileAtomic } from '../shared/index.js'
import { Problems, resolveRunOptions, type RunOptions } from '../options/index.js'
import { checkOutDir, run } from '../runner/index.js'
import { compareRounds, type ComparisonResult, type ComparisonRound } from './compare-rounds.js'
import { parseBudgets } from './budget.js'
import { parseCompareTarget, readReport, startCompareTarget, type CompareTarget, type LiveTarget } from './targets.js'
import { formatComparisonMarkdown } from './render-markdown.js'
import { COMPARE_HTML_FILE, renderComparisonHtml } from './render-html.js'

export type CompareSide = 'baseline' | 'candidate'

export interface CompareRunOptions {
  /** URL, `fixture:legacy` / `fixture:context[?latencyMs=12&bugs=a,b]`, `cmd:<starts a server on $PORT>`, or a report.json */
  baseline: string
  candidate: string
  /** built-in scenario name or file (default: `default`) */
  scenario?: string
  /** baseline/candidate pairs (default 3; ignored when comparing two reports) */
  rounds?: number
  /** options of every run (users, duration, executor, workers, thresholds ...) */
  run?: Omit<RunOptions, 'scenario' | 'target' | 'fixture' | 'out' | 'signal' | 'onProgress' | 'leaks' | 'inspectTarget' | 'cwd'>
  /** also compare heap growth per operation (fixture targets: their inspector is used) */
  leaks?: boolean
  /** e.g. `'p95=+10%'`, `['p99=+20%', 'throughput=-5%']` (unlisted metrics keep their defaults) */
  budgets?: string | string[]
  confidence?: number
  resamples?: number
  seed?: number
  /** seconds at the start of each run's load phase left out (default 1) */
  warmupS?: number
  /** directory for compare.json, compare.md, compare.html and each run's reports (null: write nothing) */
  out?: string | null
  allowRemote?: boolean
  signal?: AbortSignal
  /** called after each run */
  onRun?: (info: { round: number, rounds: number, side: CompareSide, spec: string, result: RunResult }) => void
  cwd?: string
}

export const COMPARE_DEFAULTS = { rounds: 3, commandStartTimeoutMs: 30_000 } as const

/**
 * The comparison's own inputs, every problem into `problems` (the CLI adds its flags' to the same
 * list): the rounds, the budgets (a bad one fails now, not after the rounds) and both targets.
 * Returns the parsed targets, or undefined when one did not parse.
 */
export function checkCompareInput (o: Pick<CompareRunOptions, 'baseline' | 'candidate' | 'rounds' | 'budgets' | 'cwd'>, problems: Problems): Record<CompareSide, CompareTarget> | undefined {
  const rounds = o.rounds ?? COMPARE_DEFAULTS.rounds
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) problems.add(`rounds must be an integer from 1 to 50 (got ${rounds})`)
  const budgets = o.budgets
  if (budgets !== undefined) problems.catch(() => parseBudgets(budgets))
  const cwd = o.cwd ?? process.cwd()
  const baseline = problems.catch(() => parseCompareTarget(o.baseline, cwd))
  const candidate = problems.catch(() => parseCompareTarget(o.candidate, cwd))
  return baseline === undefined || candidate === undefined ? undefined : { baseline, candidate }
}

export async function compare (o: CompareRunOptions): Promise<ComparisonResult> {
  const cwd = o.cwd ?? process.cwd()
  const rounds = o.rounds ?? COMPARE_DEFAULTS.rounds
  const problems = new Problems()
  const sides = checkCompareInput(o, problems)
  problems.throwIfAny()
  if (sides === undefined) throw new InternalError('a target did not parse, yet no problem was recorded')
  const reports = [sides.baseline.kind === 'report', sides.candidate.kind === 'report']
  // labels reach compare.json/md/html and the terminal: a URL's password or a token stays out
  const options = { labels: { baseline: specLabel(o.baseline), candidate: specLabel(o.candidate) }, ...pick(o) }
  if (o.out != null) await checkOutDir(o.out) // before any server starts or round runs

  if (reports[0] === true && reports[1] === true) {
    const baseline = readReport((sides.baseline as { path: string }).path)
    const candidate = readReport((sides.candidate as { path: string }).path)
    return await write(o.out ?? null, compareRounds([{ baseline, candidate }], options), [], [{ baseline, candidate }])
  }
  if (reports[0] !== reports[1]) throw new ConfigError('compare two reports, or two servers: not one of each')

  // bad run options fail now, before any server starts
  resolveRunOptions({ ...o.run, scenario: o.scenario, target: 'http://127.0.0.1:9/', ...(o.leaks === true && { leaks: true, inspectTarget: '127.0.0.1:9' }), cwd })

  const aborted = (): boolean => o.signal?.aborted === true
  const live: Partial<Record<CompareSide, LiveTarget>> = {}
  const results: ComparisonRound[] = []
  const written: string[] = []
  try {
    const started = await Promise.allSettled((['baseline', 'candidate'] as const).map(async (side) => {
      live[side] = await startCompareTarget(sides[side], { allowRemote: o.allowRemote === true, inspect: o.leaks === true, startTimeoutMs: COMPARE_DEFAULTS.commandStartTimeoutMs, cwd })
    }))
    const failed = started.find(s => s.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    if (o.leaks === true) {
      for (const side of ['baseline', 'candidate'] as const) {
        if (live[side]!.inspector === undefined) throw new ConfigError(`heap slopes need the server's inspector: ${side} '${sides[side].spec}' is a URL: give fixture:<mode> or cmd:<command>, which crosstalk starts with their inspector`)
      }
    }
    for (let r = 0; r < rounds && !aborted(); r++) {
      // alternate which side goes first, so a trend over the session lands on both
      const order: CompareSide[] = r % 2 === 0 ? ['baseline', 'candidate'] : ['candidate', 'baseline']
      const pair: Partial<Record<CompareSide, RunResult>> = {}
      for (const side of order) {
        if (aborted()) break
        const target = live[side]!
        const dir = o.out == null ? null : join(o.out, 'runs', `round-${r + 1}-${side}`)
        const result = await run({
          ...o.run,
          ...(o.scenario !== undefined && { scenario: o.scenario }),
          target: target.url,
          allowRemote: o.allowRemote === true,
          ...(o.leaks === true && { leaks: true, inspectTarget: target.inspector! }),
          out: dir,
          cwd,
          ...(o.signal !== undefined && { signal: o.signal })
        })
        if (dir !== null) written.push(join(dir, 'report.json'))
        pair[side] = result
        o.onRun?.({ round: r + 1, rounds, side, spec: sides[side].spec, result })
      }
      if (pair.baseline !== undefined && pair.candidate !== undefined && !aborted()) results.push({ baseline: pair.baseline, candidate: pair.candidate })
    }
  } finally {
    await Promise.allSettled(Object.values(live).map(t => t.close()))
  }
  // interrupted: what was measured is still compared and written (the caller exits 130/143)
  const interrupted = aborted() ? { interrupted: `interrupted after ${results.length} of ${rounds} round${rounds === 1 ? '' : 's'}: only complete rounds are compared` } : {}
  if (results.length === 0 && !aborted()) throw new ConfigError('no round completed: nothing to compare')
  return await write(o.out ?? null, { ...compareRounds(results, { ...options, ...interrupted }), ...startupOf(live) }, written, results)
}

/** A target spec as it may be shown: URLs without userinfo or secret query values, anything else redacted. */
export function specLabel (spec: string): string {
  const s = spec.trim()
  return /^(?:https?|wss?):\/\//i.test(s) ? redactUrl(s) : redact(spec)
}

/** Both sides' start-up when crosstalk started them from commands, and the change. */
function startupOf (live: Partial<Record<CompareSide, LiveTarget>>): Pick<ComparisonResult, 'startup'> {
  const b = live.baseline?.startup
  const c = live.candidate?.startup
  if (b === undefined && c === undefined) return {}
  const change = b !== undefined && c !== undefined
    ? { startMs: c.startMs - b.startMs, ...(b.rssBytes !== undefined && c.rssBytes !== undefined && { rssBytes: c.rssBytes - b.rssBytes }) }
    : undefined
  return { startup: { ...(b !== undefined && { baseline: b }), ...(c !== undefined && { candidate: c }), ...(change !== undefined && { change }) } }
}

function pick (o: CompareRunOptions): { budgets?: string | string[], confidence?: number, resamples?: number, seed?: number, warmupS?: number } {
  return {
    ...(o.budgets !== undefined && { budgets: o.budgets }),
    ...(o.confidence !== undefined && { confidence: o.confidence }),
    ...(o.resamples !== undefined && { resamples: o.resamples }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(o.warmupS !== undefined && { warmupS: o.warmupS })
  }
}

export const COMPARE_JSON_FILE = 'compare.json'
export const COMPARE_MARKDOWN_FILE = 'compare.md'

/** compare.json, compare.md and compare.html (which draws the rounds' per-second series). */
async function write (out: string | null, result: ComparisonResult, runReports: string[], rounds: readonly ComparisonRound[]): Promise<ComparisonResult> {
  if (out === null) return result
  await writeFileAtomic(join(out, COMPARE_JSON_FILE), JSON.stringify({ ...result, runReports }, null, 2) + '\n')
  await writeFileAtomic(join(out, COMPARE_MARKDOWN_FILE), formatComparisonMarkdown(result))
  await writeFileAtomic(join(out, COMPARE_HTML_FILE), renderComparisonHtml(result, rounds))
  return result
}
