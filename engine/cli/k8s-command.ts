// `crosstalk k8s job`: prints the Kubernetes manifests of a sharded run as multi-document YAML on
// stdout (`> job.yaml`, or `| kubectl apply -f -`). Reads the scenario and users files; makes the
// run secret (or takes it from the environment) and writes it into the Secret object only.
import type { Command } from 'commander'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { ConfigError, EXIT_PASSED, MissingDependencyError } from '../errors.js'
import { MIN_SECRET_CHARS, RUN_SECRET_ENV } from '../options/index.js'
import { k8sJobManifests, k8sMergeJob, objectNames, type K8sFile, type K8sJobSpec, type K8sMergeSpec, type K8sObject } from '../distributed/index.js'
import { builtInScenarios } from '../scenario/index.js'
import { parseDuration } from '../shared/index.js'
import { wholeNumber } from './parse.js'

interface K8sFlags {
  shards?: string
  scenario?: string
  target?: string
  image: string
  name: string
  namespace?: string
  runId?: string
  usersFile?: string
  reportsPvc?: string
  keepReports?: string
  cpu: string
  memory: string
  secretFromEnv?: boolean
  mergeOnly?: boolean
}

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
const DEFAULT_KEEP_REPORTS = '10m'
/** a scenario given by name (as `crosstalk run` reads it): built in unless such a file exists */
const NAME = /^[a-z0-9][a-z0-9_-]*$/i

export function registerK8sCommand (program: Command): void {
  const k8s = program.command('k8s').description('Kubernetes manifests for a run split into shards')
  k8s.command('job')
    .description('print the manifests of a sharded run (an Indexed Job of shards, a coordinator, the run secret, the scenario) as YAML')
    .argument('[run-flags...]', 'after --: flags for every shard\'s crosstalk run (e.g. -- --users 3000 --duration 60s)')
    .option('--shards <n>', 'how many shards (pods), 1 to 1000')
    .option('--scenario <path|name>', 'a scenario file (shipped in a ConfigMap) or a built-in scenario name')
    .option('--target <url>', 'the server under test as the pods reach it, e.g. http://api.default.svc:8080')
    .option('--image <ref>', 'the crosstalk image (see the Dockerfile)', `crosstalk:${pkg.version}`)
    .option('--name <name>', 'prefix of the objects\' names: <name>-coordinator, <name>-shards, <name>-merge', 'crosstalk')
    .option('--namespace <ns>', 'metadata.namespace of every object (default: kubectl\'s current namespace)')
    .option('--run-id <id>', 'the run id every shard shares, 1-32 letters and digits (default: random)')
    .option('--users-file <path>', 'a users file (shipped in the ConfigMap); each shard reads its own users\' rows')
    .option('--reports-pvc <claim>', 'a ReadWriteMany PersistentVolumeClaim for the reports (default: each pod\'s emptyDir)')
    .option('--keep-reports <duration>', `without --reports-pvc: how long a shard pod stays up after its run for kubectl cp, 0 for not at all (default ${DEFAULT_KEEP_REPORTS})`)
    .option('--cpu <quantity>', 'CPU request and limit of each shard', '1')
    .option('--memory <quantity>', 'memory request and limit of each shard', '2Gi')
    .option('--secret-from-env', `take the run secret from ${RUN_SECRET_ENV} (default: a new random one)`)
    .option('--merge-only', 'print only the merge Job (with --reports-pvc, after the shards are done)')
    .action(async (runFlags: string[], flags: K8sFlags) => {
      process.exitCode = await k8sJobCommand(runFlags, flags)
    })
}

async function k8sJobCommand (runFlags: string[], f: K8sFlags): Promise<number> {
  const problems: string[] = []
  const shards = wholeNumber('--shards', f.shards, problems)
  if (shards === undefined && f.shards === undefined) problems.push('--shards is required')
  const base: K8sMergeSpec = {
    name: f.name,
    runId: f.runId ?? randomBytes(8).toString('hex'),
    shards: shards ?? 1,
    image: f.image,
    cpu: f.cpu,
    memory: f.memory,
    ...(f.namespace !== undefined && { namespace: f.namespace }),
    ...(f.reportsPvc !== undefined && { reportsPvc: f.reportsPvc })
  }
  let objects: K8sObject[]
  if (f.mergeOnly === true) {
    // the merge Job belongs to a run printed before: it must name that run
    if (f.runId === undefined) problems.push('--merge-only needs the run\'s --run-id')
    throwIfAny(problems)
    objects = [k8sMergeJob(base)]
  } else {
    const spec = jobSpec(base, runFlags, f, problems)
    throwIfAny(problems)
    objects = k8sJobManifests(spec)
  }
  process.stdout.write(header(base, f) + await toYaml(objects) + footer(base, f))
  return EXIT_PASSED
}

function jobSpec (base: K8sMergeSpec, runFlags: string[], f: K8sFlags, problems: string[]): K8sJobSpec {
  if (f.target === undefined) problems.push('--target is required (the URL the pods reach the server at)')
  if (f.scenario === undefined) problems.push('--scenario is required (a scenario file or a built-in scenario name)')
  if (f.keepReports !== undefined && f.reportsPvc !== undefined) problems.push('--keep-reports is for reports without --reports-pvc (a PVC keeps them)')
  const keep = f.keepReports ?? DEFAULT_KEEP_REPORTS
  const usersFile = f.usersFile === undefined ? undefined : readFile(f.usersFile, 'users file', problems)
  return {
    ...base,
    target: f.target ?? '',
    scenario: f.scenario === undefined ? '' : scenarioOf(f.scenario, problems),
    ...(usersFile !== undefined && { usersFile }),
    secret: runSecret(f, problems),
    keepReportsS: keep.trim() === '0' ? 0 : Math.ceil(parseDuration(keep, '--keep-reports') / 1000),
    runFlags
  }
}

function scenarioOf (scenario: string, problems: string[]): string | K8sFile {
  if (NAME.test(scenario) && !existsSync(resolve(scenario))) {
    if (builtInScenarios().includes(scenario)) return scenario
    problems.push(`no scenario named '${scenario}' (built-in: ${builtInScenarios().join(', ')}; or give a file path)`)
    return scenario
  }
  return readFile(scenario, 'scenario file', problems) ?? scenario
}

function readFile (path: string, what: string, problems: string[]): K8sFile | undefined {
  const full = resolve(path)
  if (!existsSync(full) || !statSync(full).isFile()) {
    problems.push(`${what} not found: ${full}`)
    return undefined
  }
  return { name: basename(full), text: readFileSync(full, 'utf8') }
}

/** The value is never part of a message: only whether it is there and long enough. */
function runSecret (f: K8sFlags, problems: string[]): string {
  if (f.secretFromEnv !== true) return randomBytes(32).toString('hex')
  const secret = process.env[RUN_SECRET_ENV]
  if (secret === undefined || secret === '') problems.push(`--secret-from-env: ${RUN_SECRET_ENV} is not set`)
  else if (secret.length < MIN_SECRET_CHARS) problems.push(`--secret-from-env: ${RUN_SECRET_ENV} is shorter than ${MIN_SECRET_CHARS} characters`)
  return secret ?? ''
}

/** Bad input is one line (`crosstalk: CT_ERR_CONFIG: ...`), every problem in it. */
function throwIfAny (problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(problems.join('; '))
}

interface YamlModule { stringify: (value: unknown, options: { aliasDuplicateObjects: boolean, lineWidth: number }) => string }

async function toYaml (objects: K8sObject[]): Promise<string> {
  // eemeli/yaml, loaded when needed; the specifier is a variable so the build does not need it installed
  const specifier = 'yaml'
  const yaml = await (import(specifier) as Promise<YamlModule>).catch((err: unknown) => {
    throw new MissingDependencyError(`crosstalk k8s needs the yaml package: npm install yaml (${err instanceof Error ? err.message : String(err)})`)
  })
  // no anchors for repeated objects (a reader of the manifests expects every field spelled out), no folding
  return objects.map(o => `---\n${yaml.stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })}`).join('')
}

function header (spec: K8sMergeSpec, f: K8sFlags): string {
  const what = f.mergeOnly === true
    ? 'the merge Job: apply it once the shards are done'
    : `${spec.shards} shard${spec.shards === 1 ? '' : 's'} of ${f.scenario ?? ''} against ${f.target ?? ''}`
  return `# crosstalk k8s job, run ${spec.runId}: ${what}\n# kubectl apply -f <this file>\n`
}

/** The step after the shards, as a comment: it must not be applied with them. */
function footer (spec: K8sMergeSpec, f: K8sFlags): string {
  if (f.mergeOnly === true) return ''
  const names = objectNames(spec.name)
  const ns = spec.namespace === undefined ? '' : ` -n ${spec.namespace}`
  const nsFlag = spec.namespace === undefined ? '' : ` --namespace ${spec.namespace}`
  if (spec.reportsPvc === undefined) {
    // the reports live in the pods' emptyDirs: fetched while the pods stay up after their runs
    return `# each shard's log ends with the kubectl cp that fetches its report while the pod stays up (--keep-reports): kubectl logs${ns} -f -l app.kubernetes.io/component=shard,crosstalk.dev/run-id=${spec.runId} --prefix --max-log-requests ${spec.shards}\n# then: crosstalk merge shard-*/report.json --out merged\n`
  }
  const wait = `# when the shards are done: kubectl wait${ns} --for=condition=complete job/${names.shards} --timeout=1h`
  return `${wait}\n# then merge the reports on the PVC: crosstalk k8s job --merge-only --shards ${spec.shards} --run-id ${spec.runId} --name ${spec.name}${nsFlag} --image ${spec.image} --reports-pvc ${spec.reportsPvc} --cpu ${spec.cpu} --memory ${spec.memory} | kubectl apply -f -\n`
}
