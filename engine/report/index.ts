export { writeJsonReport, JSON_REPORT_FILE } from './json-report.js'
export { formatSummary } from './terminal-summary.js'
