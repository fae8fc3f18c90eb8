// What `crosstalk k8s job` needs to write a sharded run's manifests, and every check that can be
// made before anything reaches a cluster (names Kubernetes would refuse, a target the pods cannot
// reach, flags the manifests set themselves). Problems are collected, never thrown one at a time.
import { MAX_SHARDS } from '../load/index.js'
import { MIN_SECRET_CHARS, RUN_SECRET_ENV } from '../options/index.js'


/** The coordinator's port, in its container and on its Service (the shards' --coordinator URL). */
export const COORDINATOR_PORT = 7070
/**
 * A ConfigMap holds at most 1 MiB (etcd's object limit); the files, keys and metadata share it,
 * so the files get a little less.
 */
export const MAX_CONFIG_BYTES = 1_000_000

/** A file shipped in the run's ConfigMap: its base name (the key) and its text. */
export interface K8sFile { name: string, text: string }

/** What the merge Job needs: where the reports are and how many there are. */
export interface K8sMergeSpec {
  /** prefix of every object's name: <name>-coordinator, <name>-shards, <name>-merge */
  name: string
  namespace?: string
  runId: string
  shards: number
  image: string
  cpu: string
  memory: string
  /** a PersistentVolumeClaim (ReadWriteMany) the shards write their reports to */
  reportsPvc?: string
}

export interface K8sJobSpec extends K8sMergeSpec {
  /** the server under test, as the pods reach it (a cluster DNS name is remote: --allow-remote) */
  target: string
  /** a built-in scenario's name (in the image), or a scenario file shipped in the ConfigMap */
  scenario: string | K8sFile
  usersFile?: K8sFile
  /** the run secret; it is written into the Secret object only */
  secret: string
  /** without a PVC: how long each shard pod stays up after its run so `kubectl cp` can fetch the report (0: not at all) */
  keepReportsS: number
  /** extra `crosstalk run` flags for every shard (what follows `--`) */
  runFlags: string[]
}

/** RFC 1035 label: a Service's name (and so <name>-coordinator) must be one. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/
const RUN_ID = /^[A-Za-z0-9]{1,32}$/
const CPU = /^(\d+(\.\d+)?|\d+m)$/
const MEMORY = /^\d+(\.\d+)?([kMGTPE]|[KMGTPE]i)?$/
/** the longest suffix added to the name: <name>-coordinator, which must stay a 63-character label */
const LONGEST_SUFFIX = '-coordinator'
const TARGET_PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:'])

/** `crosstalk run` flags the manifests set for every shard: given again after `--` they would clash. */
const FLAGS_SET_BY_MANIFESTS = ['--shard', '--run-id', '--coordinator', '--target', '-t', '--out', '-o', '--users-file', '--config', '-c']

export function mergeSpecProblems (spec: K8sMergeSpec): string[] {
  const problems: string[] = []
  if (!Number.isInteger(spec.shards) || spec.shards < 1 || spec.shards > MAX_SHARDS) problems.push(`--shards must be a whole number from 1 to ${MAX_SHARDS}, got ${spec.shards}`)
  const maxName = 63 - LONGEST_SUFFIX.length
  if (!DNS_LABEL.test(spec.name) || spec.name.length > maxName) problems.push(`--name '${spec.name}' must be lowercase letters, digits and '-', start with a letter, at most ${maxName} characters (it names <name>${LONGEST_SUFFIX}, a Service)`)
  if (spec.namespace !== undefined && (!DNS_1123_LABEL.test(spec.namespace) || spec.namespace.length > 63)) problems.push(`--namespace '${spec.namespace}' is not a Kubernetes namespace name`)
  if (!RUN_ID.test(spec.runId)) problems.push(`--run-id '${spec.runId}' must be 1 to 32 letters and digits`)
  if (spec.image.trim() === '' || /\s/.test(spec.image)) problems.push(`--image '${spec.image}' is not an image reference`)
  if (!CPU.test(spec.cpu) || Number.parseFloat(spec.cpu) === 0) problems.push(`--cpu '${spec.cpu}' is not a CPU quantity (e.g. 1, 1.5, 500m)`)
  if (!MEMORY.test(spec.memory) || Number.parseFloat(spec.memory) === 0) problems.push(`--memory '${spec.memory}' is not a memory quantity (e.g. 2Gi, 512Mi)`)
  if (spec.reportsPvc !== undefined && (!DNS_SUBDOMAIN.test(spec.reportsPvc) || spec.reportsPvc.length > 253)) problems.push(`--reports-pvc '${spec.reportsPvc}' is not a PersistentVolumeClaim name`)
  return problems
}

export function jobSpecProblems (spec: K8sJobSpec): string[] {
  const problems = [...mergeSpecProblems(spec), ...targetProblems(spec.target), ...fileProblems(spec), ...runFlagProblems(spec.runFlags)]
  // the secret's value is never part of a message
  if (spec.secret.length < MIN_SECRET_CHARS) problems.push(`the run secret must be at least ${MIN_SECRET_CHARS} characters (${RUN_SECRET_ENV})`)
  if (!Number.isInteger(spec.keepReportsS) || spec.keepReportsS < 0) problems.push(`--keep-reports must be a duration or 0, got ${spec.keepReportsS} s`)
  return problems
}

function targetProblems (target: string): string[] {
  if (target.startsWith('cmd:')) return [`--target '${target}': a cmd: target would start a server inside every shard's pod; give the URL the pods reach your server at`]
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return [`--target '${target}' is not a URL (e.g. http://api.default.svc:8080)`]
  }
  return TARGET_PROTOCOLS.has(url.protocol) ? [] : [`--target '${target}': the pods load an http(s):// or ws(s):// URL, not ${url.protocol}`]
}

function fileProblems (spec: K8sJobSpec): string[] {
  const files = [...(typeof spec.scenario === 'string' ? [] : [spec.scenario]), ...(spec.usersFile === undefined ? [] : [spec.usersFile])]
  const problems = files.filter(f => !CONFIG_KEY.test(f.name)).map(f => `file name '${f.name}' cannot be a ConfigMap key (letters, digits, '-', '_' and '.' only): rename the file`)
  if (files.length === 2 && files[0]!.name === files[1]!.name) problems.push(`the scenario and the users file have the same name '${files[0]!.name}': rename one`)
  const bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.text), 0)
  if (bytes > MAX_CONFIG_BYTES) problems.push(`the scenario and users file are ${bytes} bytes, more than a ConfigMap holds (${MAX_CONFIG_BYTES}): bake them into the image and give their path there`)
  return problems
}

function runFlagProblems (runFlags: string[]): string[] {
  return runFlags
    .filter(a => FLAGS_SET_BY_MANIFESTS.some(f => a === f || a.startsWith(`${f}=`) || (!f.startsWith('--') && a.startsWith(f) && !a.startsWith('--'))))
    .map(a => `'${a}' after --: the manifests set ${a.split('=')[0]} for every shard themselves`)
}
