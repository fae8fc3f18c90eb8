// `user.probe`: try what must be denied. `foreign` swaps another user's resource id into a path
// and sends it with this user's credentials; `asOther` sends this user's own path with another
// user's credentials. Victims come from the run-wide directory, preferring other worker threads.
import type { Dispatcher } from 'undici'
import { METRICS, taggedKey } from '../metrics/index.js'
import type { CohortIsolation } from '../isolation/index.js'
import { excerptAround } from '../shared/index.js'

export interface ProbeOptions {
  method?: Dispatcher.HttpMethod
  /** statuses that mean "denied" (default 401, 403, 404) */
  deny?: number[]
  json?: unknown
  /** request name for metrics (default `probe <template>`) */
  name?: string
}

export interface ForeignProbeOptions extends ProbeOptions {
  /** resource kind published with `user.own(kind, id)`; default: the path segment before `:param` */
  kind?: string
}

export type ProbeResult =
  | { skipped: true, reason: string }
  | { skipped: false, victim: string, status: number, denied: boolean }

const DENY = [401, 403, 404]
const PARAM = /:[A-Za-z_][A-Za-z0-9_]*/

/** What a probe needs of a response and of the user's HTTP client (context/'s UserHttp is one). */
export interface ProbeResponse { status: number, rawHeaders: Buffer[], body: Buffer, text(): string }
export interface ProbeHttp {
  request(method: Dispatcher.HttpMethod, path: string, options: { name: string, expect: number[], headers: Record<string, string>, anonymous: boolean, shared: boolean, json?: unknown }): Promise<ProbeResponse>
}

interface Prober { id: number, name: string, threadId: number, http: ProbeHttp }

export function kindFromTemplate (template: string): string | undefined {
  const segments = template.split('/')
  const i = segments.findIndex(s => PARAM.test(s))
  return i > 0 ? segments[i - 1] : undefined
}

export class Probes {
  readonly #user: Prober
  readonly #iso: CohortIsolation

  constructor (user: Prober, iso: CohortIsolation) {
    this.#user = user
    this.#iso = iso
  }

  /** `await user.probe.foreign('/items/:id')`: another user's item, with my credentials. */
  async foreign (template: string, options: ForeignProbeOptions = {}): Promise<ProbeResult> {
    const kind = options.kind ?? kindFromTemplate(template)
    if (kind === undefined || !PARAM.test(template)) throw new TypeError(`probe.foreign needs a path with a :param, e.g. '/items/:id' (got '${template}')`)
    const victim = this.#iso.directory?.pickVictim(this.#user.id, this.#user.threadId, kind)
    if (victim === undefined) return this.#skip(`no other user published a '${kind}' resource (user.own('${kind}', id))`)
    const ids = victim.resources[kind]!
    const path = template.replace(PARAM, encodeURIComponent(ids[Math.floor(Math.random() * ids.length)]!))
    const res = await this.#send(path, template, options, {})
    return this.#judge(res, options, 'foreign-access', { receiver: this.#user.name, owner: `user-${victim.user}`, path, victim: victim.user })
  }

  /** `await user.probe.asOther('/items/' + myId)`: my resource, with another user's credentials. */
  async asOther (path: string, options: ProbeOptions = {}): Promise<ProbeResult> {
    const victim = this.#iso.directory?.pickVictim(this.#user.id, this.#user.threadId)
    if (victim === undefined) return this.#skip('no other user in the directory')
    const res = await this.#send(path, path, options, victim.credentials, true)
    return this.#judge(res, options, 'foreign-credentials', { receiver: `user-${victim.user}`, owner: this.#user.name, path, victim: victim.user })
  }

  #send (path: string, template: string, o: ProbeOptions, headers: Record<string, string>, anonymous = false): Promise<ProbeResponse> {
    this.#iso.recorder.count(METRICS.isolationProbes)
    return this.#user.http.request(o.method ?? 'GET', path, {
      name: o.name ?? `probe ${template}`,
      expect: o.deny ?? DENY,
      headers,
      anonymous,
      shared: true, // judged below, so one incident is one violation
      ...(o.json !== undefined && { json: o.json })
    })
  }

  #judge (res: ProbeResponse, o: ProbeOptions, kind: 'foreign-access' | 'foreign-credentials', who: { receiver: string, owner: string, path: string, victim: number }): ProbeResult {
    const denied = (o.deny ?? DENY).includes(res.status)
    const where = { method: o.method ?? 'GET', path: who.path }
    if (res.status >= 200 && res.status < 300) {
      this.#iso.violation({ kind, user: who.receiver, owner: who.owner, where: { ...where, part: 'status' }, excerpt: excerptAround(`${res.status} ${res.text()}`, 0) })
    } else if (this.#iso.scanEnabled) {
      // denied, but the refusal itself may carry another user's data
      this.#iso.inspectResponse({ id: kind === 'foreign-access' ? this.#user.id : who.victim, name: who.receiver }, where.method, who.path, res.rawHeaders, res.body)
    }
    this.#iso.recorder.rate(METRICS.checks, denied)
    this.#iso.recorder.rate(taggedKey(METRICS.checks, 'check', `probe denied: ${kind}`), denied)
    return { skipped: false, victim: `user-${who.victim}`, status: res.status, denied }
  }

  #skip (reason: string): ProbeResult {
    this.#iso.recorder.count(taggedKey(METRICS.isolationProbes, 'result', 'skipped'))
    return { skipped: true, reason }
  }
}
