// Shards: one run split over several processes, as k6's execution segments split it. Shard i of
// n runs the run's users [floor(i·N/n), floor((i+1)·N/n)): disjoint slices whose union is every
// user, so no user is lost or doubled by rounding, and a user's id (its canaries, its users-file
// row) is the same whichever shard runs it. Each user follows the run's whole profile by its
// global id, and an open-model cohort takes its share of the rate by its place among all users,
// so the shards' arrivals interleave as one process's would.

export interface Shard {
  /** 0-based */
  index: number
  count: number
}

/** The most shards a run may have. */
export const MAX_SHARDS = 1000

/** `'1/3'` -> { index: 1, count: 3 }, or a problem line. */
export function parseShard (value: unknown): Shard | string {
  if (typeof value === 'object' && value !== null) {
    const { index, count } = value as Record<string, unknown>
    return checkShard(index, count, JSON.stringify(value))
  }
  const m = typeof value === 'string' ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value) : null
  if (m === null) return `shard must be 'index/count' with a 0-based index, e.g. 0/3 (got ${JSON.stringify(value)})`
  return checkShard(Number(m[1]), Number(m[2]), String(value))
}

function checkShard (index: unknown, count: unknown, text: string): Shard | string {
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_SHARDS) return `shard count must be a whole number from 1 to ${MAX_SHARDS} (got ${text})`
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= (count as number)) return `shard index must be a whole number from 0 to count - 1 (got ${text}; shards are numbered from 0)`
  return { index: index as number, count: count as number }
}

/** The shard's slice [from, to) of `total` (users, or pre-allocated users): floor(i·N/n) to floor((i+1)·N/n). */
export function shardSlice (total: number, shard: Shard | null): { from: number, to: number } {
  if (shard === null) return { from: 0, to: total }
  return { from: Math.floor(shard.index * total / shard.count), to: Math.floor((shard.index + 1) * total / shard.count) }
}
