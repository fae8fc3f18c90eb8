// What a tag may be, so every key stays readable by splitKey and addressable by a threshold:
// a name like an identifier, a non-empty string value that does not look like the start of
// the next tag (`,flow:`).
import { ScenarioInvalidError } from '../errors.js'

const TAG_NAME = /^[A-Za-z_][\w.-]*$/
const NEXT_TAG = /,[A-Za-z_][\w.-]*:/

/** Throws CT_ERR_SCENARIO_INVALID naming the first bad tag. */
export function checkTags (tags: Readonly<Record<string, unknown>>): void {
  for (const name in tags) {
    const value = tags[name]
    if (!TAG_NAME.test(name)) throw new ScenarioInvalidError(`tag name '${name}' must start with a letter or '_' and hold only letters, digits, '_', '.', '-'`)
    if (typeof value !== 'string' || value === '') throw new ScenarioInvalidError(`tag '${name}' must have a non-empty string value, got ${JSON.stringify(value) ?? String(value)}`)
    if (NEXT_TAG.test(value)) throw new ScenarioInvalidError(`tag '${name}' value '${value}' holds ',<name>:', which would read as a second tag`)
  }
}
