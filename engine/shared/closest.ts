// "Did you mean": the one known name close to a misspelled one.

/** The one candidate within a few edits of `name` (none on a tie: a guess must be unambiguous). */
export function closestName (name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 5))
  let best: string | undefined
  let bestDistance = Infinity
  let tie = false
  for (const known of candidates) {
    const d = editDistance(name.toLowerCase(), known.toLowerCase())
    if (d < bestDistance) { best = known; bestDistance = d; tie = false } else if (d === bestDistance) tie = true
  }
  return bestDistance <= limit && !tie ? best : undefined
}

/** Levenshtein distance (insert, delete, substitute), two rows. */
export function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}
