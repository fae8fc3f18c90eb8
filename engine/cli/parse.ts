// Turning flag strings into option values; problems are collected, not thrown one at a time.

export function wholeNumber (flag: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value.trim())) {
    problems.push(`${flag} expects a whole number, got '${value}'`)
    return undefined
  }
  return Number(value)
}

export function decimal (flag: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) {
    problems.push(`${flag} expects a number, got '${value}'`)
    return undefined
  }
  return n
}

export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map(s => s.trim()).filter(Boolean)]
}
