export { writeJsonReport, JSON_REPORT_FILE } from './json-report.js'
export { formatSummary, formatFailureReport } from './terminal-summary.js'
