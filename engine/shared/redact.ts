// Evidence must never carry secrets: credentials-looking values are masked in excerpts.
const RULES: Array<[RegExp, string]> = [
  [/(bearer\s+)[^\s",;]+/gi, '$1[redacted]'],
  [/("?(?:token|password|passwd|secret|sid|session|cookie|authorization|api[-_]?key)"?\s*[:=]\s*"?)[^"\s,;}&]+/gi, '$1[redacted]'],
  // long opaque strings (session ids, keys) outside canaries
  [/(?<![A-Za-z0-9_])(?!ctk_)[A-Za-z0-9+/=-]{32,}(?![A-Za-z0-9_])/g, '[redacted]']
]

export const EXCERPT_CHARS = 160

export function redact (text: string): string {
  let out = text
  for (const [re, replacement] of RULES) out = out.replace(re, replacement)
  return out
}

/** A bounded, redacted window of `text` around `index`. */
export function excerptAround (text: string, index: number, length = 0): string {
  const half = Math.floor((EXCERPT_CHARS - length) / 2)
  const start = Math.max(0, index - half)
  const end = Math.min(text.length, index + length + half)
  const body = text.slice(start, end).replace(/[\r\n\t]+/g, ' ')
  return `${start > 0 ? '…' : ''}${redact(body)}${end < text.length ? '…' : ''}`
}
