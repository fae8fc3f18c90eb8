// `user.probe`: try what must be denied. `foreign` swaps another user's resource id into a path
// and sends it with this user's credentials; `asOther` sends this user's own path with another
// user's credentials. Victims come from the run-wide directory, preferring other worker threads.
// Each probe counts once: a 2xx is a violation (not also a failed check), a refusal a passed
// check. Request names are route templates, so probes add a bounded number of metric keys.
import type { Dispatcher } from 'undici'
import { METRICS, taggedKey } from '../metrics/index.js'
import type { CohortIsolation } from '../isolation/index.js'
import { excerptAround, routeTemplate } from '../shared/index.js'

export interface ProbeOptions {
  method?: Dispatcher.HttpMethod
  /** statuses that mean "denied" (default 401, 403, 404) */
  deny?: number[]
  json?: unknown
  /** request name for metrics (default `probe <route template>`: `probe /items/:id`) */
  name?: string
}

export interface ForeignProbeOptions extends ProbeOptions {
  /** resource kind published with `user.own(kind, id)`; default: the path segment before `:param` */
  kind?: string
}

/**
 * denied: refused as it must be (a passed check); violation: a 2xx reached data it must not;
 * caller-data: `asOther` got the credential owner's own data (the route serves the caller's data,
 * so the probe tests nothing there); unexpected: neither denied nor 2xx (a failed check).
 */
export type ProbeOutcome = 'denied' | 'violation' | 'caller-data' | 'unexpected'

export type ProbeResult =
  | { skipped: true, reason: string }
  | { skipped: false, victim: string, status: number, denied: boolean, result: ProbeOutcome }

const DENY = [401, 403, 404]
const SUCCESS = Array.from({ length: 100 }, (_, i) => 200 + i)
/** a probe's 2xx is judged here (violation or caller data), so it is no failed request too */
const PROBE_EXPECT = [...DENY, ...SUCCESS]
const PARAM = /:[A-Za-z_][A-Za-z0-9_]*/

/** What a probe needs of a response and of the user's HTTP client (context/'s UserHttp is one). */
export interface ProbeResponse { status: number, rawHeaders: Buffer[], body: Buffer, text(): string }
export interface ProbeHttp {
  request(method: Dispatcher.HttpMethod, path: string, options: { name: string, expect: number[], headers: Record<string, string>, anonymous: boolean, shared: boolean, json?: unknown }): Promise<ProbeResponse>
}

interface Prober { id: number, name: string, threadId: number, http: ProbeHttp }
interface Who { receiver: string, owner: string, path: string, route: string, victim: number }

export function kindFromTemplate (template: string): string | undefined {
  const segments = template.split('/')
  const i = segments.findIndex(s => PARAM.test(s))
  return i > 0 ? segments[i - 1] : undefined
}

export class Probes {
  readonly #user: Prober
  readonly #iso: CohortIsolation
  /** the user's published resources (`user.own`): their ids in a path are ids, whatever they look like */
  readonly #resources: () => Record<string, string[]>

  constructor (user: Prober, iso: CohortIsolation, resources: () => Record<string, string[]> = () => ({})) {
    this.#user = user
    this.#iso = iso
    this.#resources = resources
  }

  /** `await user.probe.foreign('/items/:id')`: another user's item, with my credentials. */
  async foreign (template: string, options: ForeignProbeOptions = {}): Promise<ProbeResult> {
    const kind = options.kind ?? kindFromTemplate(template)
    if (kind === undefined || !PARAM.test(template)) throw new TypeError(`probe.foreign needs a path with a :param, e.g. '/items/:id' (got '${template}')`)
    const victim = this.#iso.directory?.pickVictim(this.#user.id, this.#user.threadId, kind)
    if (victim === undefined) return this.#skip(`no other user published a '${kind}' resource (user.own('${kind}', id))`)
    const ids = victim.resources[kind]!
    const path = template.replace(PARAM, encodeURIComponent(ids[Math.floor(Math.random() * ids.length)]!))
    const route = routeTemplate(template)
    const res = await this.#send(path, route, options, {})
    return this.#judge(res, options, 'foreign-access', { receiver: this.#user.name, owner: `user-${victim.user}`, path, route, victim: victim.user })
  }

  /** `await user.probe.asOther('/items/' + myId)`: my resource, with another user's credentials. */
  async asOther (path: string, options: ProbeOptions = {}): Promise<ProbeResult> {
    const victim = this.#iso.directory?.pickVictim(this.#user.id, this.#user.threadId)
    if (victim === undefined) return this.#skip('no other user in the directory')
    const route = routeTemplate(path, this.#ownIds())
    const res = await this.#send(path, route, options, victim.credentials, true)
    const who = { receiver: `user-${victim.user}`, owner: this.#user.name, path, route, victim: victim.user }
    if (res.status >= 200 && res.status < 300 && this.#servesCaller(res.body, victim.user)) return this.#callerData(res, options, who)
    return this.#judge(res, options, 'foreign-credentials', who)
  }

  #ownIds (): Set<string> {
    const ids = new Set<string>()
    for (const list of Object.values(this.#resources())) for (const id of list) ids.add(id)
    return ids
  }

  /**
   * The answer carries the credential owner's canaries and none of this user's (the path owner):
   * the server answered with the caller's own data. No canary at all stays a violation.
   */
  #servesCaller (body: Buffer, caller: number): boolean {
    const notCallers = this.#iso.scanner.scan(body, caller)
    if (notCallers?.some(c => c.owner === this.#user.id) === true) return false
    return this.#iso.scanner.scan(body, this.#user.id)?.some(c => c.owner === caller) === true
  }

  #callerData (res: ProbeResponse, o: ProbeOptions, who: Who): ProbeResult {
    const method = o.method ?? 'GET'
    this.#iso.callerData(`${method} ${who.route}`)
    // the caller's data may still carry a third user's canaries: scanned as the caller's answer
    this.#iso.inspectResponse({ id: who.victim, name: who.receiver }, method, who.path, res.rawHeaders, res.body)
    return { skipped: false, victim: `user-${who.victim}`, status: res.status, denied: false, result: 'caller-data' }
  }

  #send (path: string, route: string, o: ProbeOptions, headers: Record<string, string>, anonymous = false): Promise<ProbeResponse> {
    this.#iso.recorder.count(METRICS.isolationProbes)
    return this.#user.http.request(o.method ?? 'GET', path, {
      name: o.name ?? `probe ${route}`,
      expect: o.deny === undefined ? PROBE_EXPECT : [...o.deny, ...SUCCESS],
      headers,
      anonymous,
      shared: true, // judged below, so one incident is one violation
      ...(o.json !== undefined && { json: o.json })
    })
  }

  #judge (res: ProbeResponse, o: ProbeOptions, kind: 'foreign-access' | 'foreign-credentials', who: Who): ProbeResult {
    const denied = (o.deny ?? DENY).includes(res.status)
    const where = { method: o.method ?? 'GET', path: who.path }
    const base = { skipped: false as const, victim: `user-${who.victim}`, status: res.status, denied }
    if (res.status >= 200 && res.status < 300 && !denied) {
      // a violation, counted once: not also a failed check
      this.#iso.violation({ kind, user: who.receiver, owner: who.owner, where: { ...where, part: 'status' }, excerpt: excerptAround(`${res.status} ${res.text()}`, 0) })
      this.#iso.recorder.count(taggedKey(METRICS.isolationProbes, 'result', 'violation'))
      return { ...base, result: 'violation' }
    }
    // denied (or not, with an error status): the answer itself may carry another user's data
    this.#iso.inspectResponse({ id: kind === 'foreign-access' ? this.#user.id : who.victim, name: who.receiver }, where.method, who.path, res.rawHeaders, res.body)
    this.#iso.recorder.rate(METRICS.checks, denied)
    this.#iso.recorder.rate(taggedKey(METRICS.checks, 'check', `probe denied: ${kind}`), denied)
    this.#iso.recorder.count(taggedKey(METRICS.isolationProbes, 'result', denied ? 'denied' : 'unexpected'))
    return { ...base, result: denied ? 'denied' : 'unexpected' }
  }

  #skip (reason: string): ProbeResult {
    this.#iso.recorder.count(taggedKey(METRICS.isolationProbes, 'result', 'skipped'))
    return { skipped: true, reason }
  }
}
