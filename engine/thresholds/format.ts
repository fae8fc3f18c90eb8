// Threshold lines for the terminal summary, plain like report/terminal-summary.ts.
import type { ThresholdResult } from '../result/index.js'

function num (v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 6 })
}

/** `  ✓ http.req.duration{name:get item}  p(95)<50  value 12.3`, columns aligned. */
export function formatThresholdLines (results: readonly ThresholdResult[]): string[] {
  const keyWidth = Math.max(0, ...results.map(r => r.metric.length))
  const exprWidth = Math.max(0, ...results.map(r => r.expression.length))
  return results.map(r => {
    const value = r.value === null ? 'no data' : `value ${num(r.value)}`
    return `  ${r.passed ? '✓' : '✗'} ${r.metric.padEnd(keyWidth)}  ${r.expression.padEnd(exprWidth)}  ${value}${r.default === true ? '  (default budget)' : ''}`
  })
}
