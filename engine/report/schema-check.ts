// report.json against its published JSON Schema (ajv, a devDependency, loaded only when asked).
// The suite sets CROSSTALK_SCHEMA_CHECK=1 (ava.config.js), so every result a test produces -
// through run(), the ava macro, the CLI or compare - is checked, not only the report tests' own.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { InternalError } from '../errors.js'
import type { RunResult } from '../result/index.js'

export const REPORT_SCHEMA_URL = new URL('../../../schema/report.schema.json', import.meta.url)
export const SCHEMA_CHECK_ENV = 'CROSSTALK_SCHEMA_CHECK'

type Validate = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string, message?: string, params: unknown }> | null }
let validate: Validate | undefined

function validator (): Validate {
  if (validate !== undefined) return validate
  // sync require keeps the check inline where the result is built; ajv is CJS
  const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: new (o: object) => { addFormat: (n: string, r: RegExp) => void, compile: (s: unknown) => Validate } }
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  // RFC 3339 date-time, as toISOString() writes it (ajv-formats is not a dependency)
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/)
  validate = ajv.compile(JSON.parse(readFileSync(REPORT_SCHEMA_URL, 'utf8')))
  return validate
}

/** The schema's complaints about `report` as JSON would carry it (empty: valid). */
export function reportSchemaErrors (report: unknown): string[] {
  const v = validator()
  if (v(JSON.parse(JSON.stringify(report)))) return []
  return (v.errors ?? []).map(e => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

/** With CROSSTALK_SCHEMA_CHECK set, a result that does not match the schema is an internal error. */
export function selfCheckReport (result: RunResult): void {
  if (process.env[SCHEMA_CHECK_ENV] === undefined || process.env[SCHEMA_CHECK_ENV] === '') return
  const errors = reportSchemaErrors(result)
  if (errors.length > 0) throw new InternalError(`report.json does not match schema/report.schema.json:\n${errors.slice(0, 10).join('\n')}`)
}
