// The reports `crosstalk merge` is given, read and checked: every shard of one run, each once,
// with its histograms, and where each sits on the merged clock. The merged run's clock starts at
// the earliest shard's start; a shard's seconds move by whole seconds onto it, so per-second
// series line up on the common (coordinated) load start to within half a second.
import { MergeError } from '../errors.js'
import { readJsonReport } from '../report/index.js'
import type { RunResult, ShardReport } from '../result/index.js'

export interface ShardInput {
  path: string
  result: RunResult & { shard: ShardReport }
  /** epoch ms of its run's start (its timeSeries' origin) */
  startedAtMs: number
  /** whole seconds its series moves by onto the merged clock */
  shiftS: number
}

export interface MergeInput {
  runId: string
  count: number
  /** by shard index */
  shards: ShardInput[]
  /** epoch ms of the merged clock's origin: the earliest shard's start */
  originMs: number
}

export async function readShardReports (paths: readonly string[]): Promise<MergeInput> {
  if (paths.length === 0) throw new MergeError('give the report.json of every shard of the run')
  const read: Array<{ path: string, result: RunResult }> = []
  for (const path of paths) read.push({ path, result: await readJsonReport(path) })
  return checkShards(read)
}

/** The shards, or MergeError naming every reason they are not one run's complete set. */
export function checkShards (read: ReadonlyArray<{ path: string, result: RunResult }>): MergeInput {
  const problems: string[] = []
  const shards = read.filter((r): r is { path: string, result: RunResult & { shard: ShardReport } } => {
    if (r.result.shard !== undefined) return true
    problems.push(`${r.path} is not a shard's report (run it with --shard i/n)`)
    return false
  })
  const first = shards[0]
  if (first === undefined) throw new MergeError(problems.join('; '))
  const { runId } = first.result
  const { count } = first.result.shard
  const byIndex = new Map<number, string>()
  for (const { path, result } of shards) {
    if (result.runId !== runId) problems.push(`${path} is of run ${result.runId}, not ${runId} (every shard needs the same --run-id)`)
    if (result.shard.count !== count) problems.push(`${path} is shard ${result.shard.index}/${result.shard.count}, not of ${count} shards`)
    if (result.executor.name !== first.result.executor.name || JSON.stringify(result.executor.profile) !== JSON.stringify(first.result.executor.profile)) {
      problems.push(`${path} ran another plan (executor ${result.executor.name}) than ${first.path}`)
    }
    const seen = byIndex.get(result.shard.index)
    if (seen !== undefined) problems.push(`shard ${result.shard.index} is given twice: ${seen} and ${path}`)
    byIndex.set(result.shard.index, path)
  }
  const missing = Array.from({ length: count }, (_v, i) => i).filter(i => !byIndex.has(i))
  if (missing.length > 0) problems.push(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing`)
  if (problems.length > 0) throw new MergeError(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`)
  const sorted = [...shards].sort((a, b) => a.result.shard.index - b.result.shard.index)
  const originMs = Math.min(...sorted.map(s => Date.parse(s.result.startedAt)))
  return {
    runId,
    count,
    originMs,
    shards: sorted.map(s => {
      const startedAtMs = Date.parse(s.result.startedAt)
      return { ...s, startedAtMs, shiftS: Math.round((startedAtMs - originMs) / 1000) }
    })
  }
}
