// Turning compare's own flag strings into values (run options read theirs by the option table's
// kinds); problems are collected, not thrown one at a time.

export function wholeNumber (flag: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value.trim())) {
    problems.push(`${flag} expects a whole number, got '${value}'`)
    return undefined
  }
  return Number(value)
}

export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map(s => s.trim()).filter(Boolean)]
}
