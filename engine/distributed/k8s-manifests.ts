// The Kubernetes objects of a sharded run, as plain objects (the CLI prints them as YAML): the run
// secret, the scenario's ConfigMap, the coordinator (a one-pod Job and its Service) and the shards
// (an Indexed Job: pod i runs `crosstalk run --shard i/n`). A pure function of the spec: the files'
// text and the secret come in, nothing is read here.
import { ConfigError } from '../errors.js'
import { RUN_SECRET_ENV } from '../options/index.js'
import { COORDINATOR_PORT, jobSpecProblems, mergeSpecProblems, type K8sFile, type K8sJobSpec, type K8sMergeSpec } from './k8s-spec.js'
import { keepReportsCommand } from './keep-reports.js'

export type K8sObject = Record<string, unknown> & { apiVersion: string, kind: string, metadata: K8sMetadata }
interface K8sMetadata { name: string, namespace?: string, labels: Record<string, string> }
type Component = 'run-secret' | 'files' | 'coordinator' | 'shard' | 'merge'

/** Where the ConfigMap is mounted, and where an init container copies its files (writable: a .ts scenario compiles beside itself). */
const CONFIG_DIR = '/crosstalk-config'
/** Under /app, the image's crosstalk package: a scenario's `import ... from 'crosstalk'` resolves to it (a package may import itself by name). */
export const RUN_FILES_DIR = '/app/run'
export const REPORTS_DIR = '/reports'
/** Set by the Job controller in every pod of an Indexed Job; Kubernetes expands $(VAR) in args from the container's env. */
const INDEX = '$(JOB_COMPLETION_INDEX)'

export const objectNames = (name: string): { secret: string, files: string, coordinator: string, shards: string, merge: string } => ({
  secret: `${name}-run-secret`, files: `${name}-files`, coordinator: `${name}-coordinator`, shards: `${name}-shards`, merge: `${name}-merge`
})

/** The run's reports directory: one per run id, so runs can share a PVC. */
export const runReportsDir = (runId: string): string => `${REPORTS_DIR}/${runId}`

/** Every object but the merge Job, in the order `kubectl apply` should create them. Throws ConfigError (one line) on bad input. */
export function k8sJobManifests (spec: K8sJobSpec): K8sObject[] {
  const problems = jobSpecProblems(spec)
  if (problems.length > 0) throw new ConfigError(problems.join('; '))
  const names = objectNames(spec.name)
  const files = [...(typeof spec.scenario === 'string' ? [] : [spec.scenario]), ...(spec.usersFile === undefined ? [] : [spec.usersFile])]
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: metadata(spec, names.secret, 'run-secret'), type: 'Opaque', stringData: { [RUN_SECRET_ENV]: spec.secret } },
    ...(files.length === 0 ? [] : [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(spec, names.files, 'files'), data: Object.fromEntries(files.map(f => [f.name, f.text])) }]),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(spec, names.coordinator, 'coordinator'),
      spec: { type: 'ClusterIP', selector: selector(spec, 'coordinator'), ports: [{ name: 'http', protocol: 'TCP', port: COORDINATOR_PORT, targetPort: COORDINATOR_PORT }] }
    },
    coordinatorJob(spec),
    shardsJob(spec, files)
  ]
}

/** The final Job that merges the shards' reports on the PVC; applied once the shards are done. */
export function k8sMergeJob (spec: K8sMergeSpec): K8sObject {
  const problems = mergeSpecProblems(spec)
  if (spec.reportsPvc === undefined) problems.push('the merge Job reads the shards\' reports from a PVC: give --reports-pvc (without one, `kubectl cp` the reports and run `crosstalk merge` locally)')
  if (problems.length > 0) throw new ConfigError(problems.join('; '))
  const dir = runReportsDir(spec.runId)
  const reports = Array.from({ length: spec.shards }, (_, i) => `${dir}/shard-${i}/report.json`)
  const container = {
    name: 'merge',
    image: spec.image,
    // every shard's report by name, not a glob: args reach no shell, and a missing shard must fail the merge
    args: ['merge', ...reports, '--out', `${dir}/merged`],
    resources: resources(spec),
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [{ name: 'reports', mountPath: REPORTS_DIR }]
  }
  return job(spec, objectNames(spec.name).merge, 'merge', { backoffLimit: 0 }, {
    restartPolicy: 'Never',
    securityContext: POD_SECURITY,
    containers: [container],
    volumes: [{ name: 'reports', persistentVolumeClaim: { claimName: spec.reportsPvc } }]
  })
}

function coordinatorJob (spec: K8sJobSpec): K8sObject {
  const container = {
    name: 'coordinator',
    image: spec.image,
    args: ['coordinate', '--shards', String(spec.shards), '--run-id', spec.runId, '--host', '0.0.0.0', '--allow-remote', '--port', String(COORDINATOR_PORT)],
    env: [secretEnv(spec)],
    ports: [{ name: 'http', containerPort: COORDINATOR_PORT, protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    securityContext: CONTAINER_SECURITY
  }
  // not retried: shards that reported ready to a coordinator that died would wait for another in vain
  return job(spec, objectNames(spec.name).coordinator, 'coordinator', { backoffLimit: 0 }, {
    restartPolicy: 'Never', securityContext: POD_SECURITY, containers: [container]
  })
}

function shardsJob (spec: K8sJobSpec, files: K8sFile[]): K8sObject {
  const names = objectNames(spec.name)
  const dir = runReportsDir(spec.runId)
  const scenario = typeof spec.scenario === 'string' ? spec.scenario : `${RUN_FILES_DIR}/${spec.scenario.name}`
  const args = [
    'run', escapeVars(scenario),
    '--shard', `${INDEX}/${spec.shards}`,
    '--run-id', spec.runId,
    '--coordinator', `http://${names.coordinator}:${COORDINATOR_PORT}`,
    '--target', escapeVars(spec.target),
    // the target is a cluster address, not loopback: crosstalk refuses it unless told
    '--allow-remote',
    '--out', `${dir}/shard-${INDEX}`,
    ...(spec.usersFile === undefined ? [] : ['--users-file', escapeVars(`${RUN_FILES_DIR}/${spec.usersFile.name}`)]),
    ...spec.runFlags.map(escapeVars)
  ]
  const keep = spec.reportsPvc === undefined && spec.keepReportsS > 0
  const container = {
    name: 'shard',
    image: spec.image,
    ...(keep && { command: keepReportsCommand(spec.keepReportsS, dir, spec.namespace) }),
    args,
    env: [secretEnv(spec)],
    resources: resources(spec),
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [{ name: 'reports', mountPath: REPORTS_DIR }, ...(files.length === 0 ? [] : [{ name: 'run-files', mountPath: RUN_FILES_DIR }])]
  }
  return job(spec, names.shards, 'shard', {
    completionMode: 'Indexed',
    completions: spec.shards,
    parallelism: spec.shards,
    // a failed shard (a crash, or thresholds failing: exit 1) fails its own index and is not
    // retried - a retry would start alone, after the others - while the other shards run on
    // (with backoffLimit, the Job's first failure would stop every other shard mid-run)
    backoffLimitPerIndex: 0
  }, {
    restartPolicy: 'Never',
    securityContext: POD_SECURITY,
    // one shard per node where the cluster has the nodes: the point of sharding
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector(spec, 'shard') } }],
    ...(files.length > 0 && { initContainers: [copyFilesContainer(spec, files)] }),
    containers: [container],
    volumes: [
      spec.reportsPvc === undefined ? { name: 'reports', emptyDir: {} } : { name: 'reports', persistentVolumeClaim: { claimName: spec.reportsPvc } },
      ...(files.length === 0 ? [] : [{ name: 'files', configMap: { name: names.files } }, { name: 'run-files', emptyDir: {} }])
    ]
  })
}

/** ConfigMap volumes are read-only, and a TypeScript scenario is compiled beside itself: its files are copied to a writable directory first. */
function copyFilesContainer (spec: K8sJobSpec, files: K8sFile[]): Record<string, unknown> {
  return {
    name: 'copy-files',
    image: spec.image,
    command: ['cp', ...files.map(f => `${CONFIG_DIR}/${f.name}`), `${RUN_FILES_DIR}/`],
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [{ name: 'files', mountPath: CONFIG_DIR, readOnly: true }, { name: 'run-files', mountPath: RUN_FILES_DIR }]
  }
}

function job (spec: K8sMergeSpec, name: string, component: Component, jobSpec: Record<string, unknown>, podSpec: Record<string, unknown>): K8sObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(spec, name, component),
    spec: { ...jobSpec, template: { metadata: { labels: labels(spec, component) }, spec: podSpec } }
  }
}

function metadata (spec: K8sMergeSpec, name: string, component: Component): K8sMetadata {
  return { name, ...(spec.namespace !== undefined && { namespace: spec.namespace }), labels: labels(spec, component) }
}

function labels (spec: K8sMergeSpec, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'crosstalk', 'app.kubernetes.io/component': component, 'crosstalk.dev/run-id': spec.runId }
}

const selector = labels

/** The secret reaches a container only as a reference to the Secret: never a literal in a pod spec. */
function secretEnv (spec: K8sMergeSpec): Record<string, unknown> {
  return { name: RUN_SECRET_ENV, valueFrom: { secretKeyRef: { name: objectNames(spec.name).secret, key: RUN_SECRET_ENV } } }
}

/** Requests = limits: a load generator throttled below what it asked for measures its own starvation. */
function resources (spec: K8sMergeSpec): Record<string, unknown> {
  const amounts = { cpu: spec.cpu, memory: spec.memory }
  return { requests: amounts, limits: { ...amounts } }
}

/** Kubernetes expands $(VAR) (and turns $$ into $) in args: a user's text keeps its every '$'. */
function escapeVars (text: string): string {
  return text.replaceAll('$', () => '$$')
}

const POD_SECURITY = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } }
const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }
