// `crosstalk k8s job` as a user runs it: the real CLI prints the manifests, and every document
// must be a Kubernetes object of its kind as @kubernetes/client-node types it (its serializer keeps
// only the fields the API has: a misspelled field is dropped, and the round trip shows it), with the
// shard, coordinator, secret and merge wiring the distributed contract expects.
import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dumpYaml, loadAllYaml, V1ConfigMap, V1Job, V1Secret, V1Service, type V1Container, type V1PodSpec } from '@kubernetes/client-node'
import { parse, parseAllDocuments } from 'yaml'
import { CLI, tempDir } from './support.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const SECRET_ENV = 'CROSSTALK_RUN_SECRET'
const KINDS = { Secret: V1Secret, ConfigMap: V1ConfigMap, Service: V1Service, Job: V1Job } as const

interface Run { code: number | null, stdout: string, stderr: string }

function crosstalk (args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- YAML documents, read field by field

/**
 * Each document as plain data, and the same document read by @kubernetes/client-node as its typed
 * model and written back: equal only if every field is one the Kubernetes API has.
 */
function kubernetesDocs (t: ExecutionContext, yamlText: string): Doc[] {
  const docs = parseAllDocuments(yamlText).map(d => {
    t.deepEqual(d.errors, [])
    return d.toJS() as Doc
  })
  const typed = loadAllYaml(yamlText)
  t.is(typed.length, docs.length)
  docs.forEach((doc, i) => {
    const model = KINDS[doc.kind as keyof typeof KINDS]
    t.truthy(model, `unexpected kind ${String(doc.kind)}`)
    t.true(typed[i] instanceof model, `${String(doc.kind)} is read as its model`)
    t.deepEqual(roundTrip(typed[i]), doc, `${String(doc.kind)} ${String(doc.metadata?.name)} keeps every field`)
  })
  return docs
}

function roundTrip (typed: unknown): Doc {
  return parse(dumpYaml(typed)) as Doc
}

const podSpec = (job: Doc): V1PodSpec => job.spec.template.spec as V1PodSpec
const container = (job: Doc): V1Container => podSpec(job).containers[0]!
const argAfter = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1]

function scenarioFiles (t: ExecutionContext): { scenario: string, users: string, scenarioText: string, usersText: string } {
  const dir = tempDir(t)
  const scenarioText = "import { defineScenario } from 'crosstalk'\n\nexport default defineScenario({\n  name: 'k8s',\n  async iteration (user) { await user.http.get('/items/$(HOME)') }\n})\n"
  const usersText = 'email,password\na@example.com,pw-a\nb@example.com,pw-b\n'
  writeFileSync(join(dir, 'load.mjs'), scenarioText)
  writeFileSync(join(dir, 'users.csv'), usersText)
  return { scenario: join(dir, 'load.mjs'), users: join(dir, 'users.csv'), scenarioText, usersText }
}

test('the manifests are Kubernetes objects, wired as the distributed run expects', async t => {
  const files = scenarioFiles(t)
  const secret = 's'.repeat(20) + 'e'.repeat(20) + '-secret-from-env'
  const { code, stdout, stderr } = await crosstalk([
    'k8s', 'job', '--shards', '3', '--scenario', files.scenario, '--target', 'http://api.shop.svc:8080', '--users-file', files.users,
    '--namespace', 'load', '--name', 'ct', '--run-id', 'r42', '--reports-pvc', 'reports', '--cpu', '2', '--memory', '3Gi', '--secret-from-env',
    '--', '--users', '3000', '--duration', '60s', '--threshold', 'http.req.duration: p(95)<200'
  ], { [SECRET_ENV]: secret })
  t.is(code, 0, stderr)
  t.is(stderr, '')
  const docs = kubernetesDocs(t, stdout)
  t.deepEqual(docs.map(d => `${String(d.kind)}/${String(d.metadata.name)}`), ['Secret/ct-run-secret', 'ConfigMap/ct-files', 'Service/ct-coordinator', 'Job/ct-coordinator', 'Job/ct-shards'])
  for (const d of docs) {
    t.is(d.metadata.namespace, 'load')
    t.like(d.metadata.labels, { 'app.kubernetes.io/name': 'crosstalk', 'crosstalk.dev/run-id': 'r42' })
  }
  const [secretDoc, configMap, service, coordinator, shards] = docs as [Doc, Doc, Doc, Doc, Doc]

  // the secret: in the Secret, referenced by every pod, written nowhere else
  t.deepEqual(secretDoc.stringData, { [SECRET_ENV]: secret })
  t.is(stdout.split(secret).length - 1, 1, 'the secret is printed once, in the Secret')
  for (const job of [coordinator, shards]) {
    t.deepEqual(container(job).env, [{ name: SECRET_ENV, valueFrom: { secretKeyRef: { name: 'ct-run-secret', key: SECRET_ENV } } }])
    const spelled = JSON.stringify([container(job).args, container(job).command, container(job).env])
    t.false(spelled.includes(secret))
  }

  // the scenario and users file, as the user wrote them, copied where the shard reads them
  t.deepEqual(configMap.data, { 'load.mjs': files.scenarioText, 'users.csv': files.usersText })
  t.deepEqual(podSpec(shards).initContainers?.[0]?.command, ['cp', '/crosstalk-config/load.mjs', '/crosstalk-config/users.csv', '/app/run/'])

  // the Indexed Job: one pod per shard, each its own index
  t.like(shards.spec, { completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 0 })
  const args = container(shards).args!
  t.is(args[0], 'run')
  t.is(args[1], '/app/run/load.mjs')
  t.is(argAfter(args, '--shard'), '$(JOB_COMPLETION_INDEX)/3')
  t.is(argAfter(args, '--run-id'), 'r42')
  t.is(argAfter(args, '--target'), 'http://api.shop.svc:8080')
  t.true(args.includes('--allow-remote'))
  t.is(argAfter(args, '--out'), '/reports/r42/shard-$(JOB_COMPLETION_INDEX)')
  t.is(argAfter(args, '--users-file'), '/app/run/users.csv')
  t.deepEqual(args.slice(-6), ['--users', '3000', '--duration', '60s', '--threshold', 'http.req.duration: p(95)<200'])
  t.is(container(shards).command, undefined, 'with a PVC the image\'s entrypoint runs crosstalk itself')
  t.deepEqual(container(shards).resources, { requests: { cpu: '2', memory: '3Gi' }, limits: { cpu: '2', memory: '3Gi' } })
  t.deepEqual(podSpec(shards).volumes?.[0], { name: 'reports', persistentVolumeClaim: { claimName: 'reports' } })

  // the coordinator: its Service is what the shards' --coordinator URL names
  const url = new URL(argAfter(args, '--coordinator')!)
  t.is(url.hostname, service.metadata.name)
  t.is(Number(url.port), service.spec.ports[0].port)
  t.is(service.spec.ports[0].targetPort, container(coordinator).ports?.[0]?.containerPort)
  t.like(coordinator.spec.template.metadata.labels, service.spec.selector)
  t.not(shards.spec.template.metadata.labels['app.kubernetes.io/component'], service.spec.selector['app.kubernetes.io/component'], 'the Service selects no shard')
  const coordinate = container(coordinator).args!
  t.deepEqual([coordinate[0], argAfter(coordinate, '--shards'), argAfter(coordinate, '--run-id'), argAfter(coordinate, '--host'), argAfter(coordinate, '--port')], ['coordinate', '3', 'r42', '0.0.0.0', String(url.port)])
  t.true(coordinate.includes('--allow-remote'), 'listening on 0.0.0.0 needs --allow-remote')

  // the merge step is a comment naming the command that prints it: applied with the rest it would run too early
  t.regex(stdout, /# when the shards are done: kubectl wait -n load --for=condition=complete job\/ct-shards/)
  t.regex(stdout, /# then merge the reports on the PVC: crosstalk k8s job --merge-only --shards 3 --run-id r42 --name ct --namespace load /)
})

test('--merge-only prints the merge Job: every shard\'s report on the PVC by name, merged beside them', async t => {
  const { code, stdout, stderr } = await crosstalk(['k8s', 'job', '--merge-only', '--shards', '3', '--run-id', 'r42', '--name', 'ct', '--reports-pvc', 'reports', '--image', 'registry.example/crosstalk:1'])
  t.is(code, 0, stderr)
  const docs = kubernetesDocs(t, stdout)
  t.is(docs.length, 1)
  const merge = docs[0]!
  t.is(merge.metadata.name, 'ct-merge')
  t.deepEqual(container(merge).args, ['merge', '/reports/r42/shard-0/report.json', '/reports/r42/shard-1/report.json', '/reports/r42/shard-2/report.json', '--out', '/reports/r42/merged'])
  t.is(container(merge).image, 'registry.example/crosstalk:1')
  t.deepEqual(podSpec(merge).volumes, [{ name: 'reports', persistentVolumeClaim: { claimName: 'reports' } }])
  t.false(stdout.includes(SECRET_ENV), 'merging needs no secret')
})

test('a built-in scenario and no PVC: no ConfigMap, a random secret, and pods that keep their reports for kubectl cp', async t => {
  const { code, stdout, stderr } = await crosstalk(['k8s', 'job', '--shards', '2', '--scenario', 'items', '--target', 'ws://api:8080/?q=$x', '--keep-reports', '90s'])
  t.is(code, 0, stderr)
  t.is(stderr, '')
  const docs = kubernetesDocs(t, stdout)
  t.deepEqual(docs.map(d => d.kind), ['Secret', 'Service', 'Job', 'Job'])
  const secret = String(docs[0]!.stringData[SECRET_ENV])
  t.regex(secret, /^[0-9a-f]{64}$/)
  t.is(stdout.split(secret).length - 1, 1)
  const runId = String(docs[0]!.metadata.labels['crosstalk.dev/run-id'])
  t.regex(runId, /^[0-9a-f]{16}$/)
  const shards = docs[3]!
  t.false(docs.some(d => d.metadata.namespace !== undefined), 'no --namespace: kubectl\'s own')
  t.is(podSpec(shards).initContainers, undefined)
  t.deepEqual(podSpec(shards).volumes, [{ name: 'reports', emptyDir: {} }])
  const args = container(shards).args!
  t.is(args[1], 'items')
  // Kubernetes would expand $(...) and turn $$ into $: the user's '$' is written doubled
  t.is(argAfter(args, '--target'), 'ws://api:8080/?q=$$x')
  const command = container(shards).command!
  t.deepEqual([command[0], command[1], command[3]], ['sh', '-c', 'crosstalk'])
  t.false(/\$\(|\$\$/.test(command[2]!), 'the script has nothing Kubernetes would expand')
  t.regex(command[2]!, /sleep 90 &/)
})

test('the keep-reports script exits with the run\'s code, says where the report is, and passes SIGTERM on to the run', async t => {
  const { stdout } = await crosstalk(['k8s', 'job', '--shards', '2', '--scenario', 'items', '--target', 'http://api:8080', '--namespace', 'load', '--run-id', 'abc', '--keep-reports', '1s'])
  const shards = parseAllDocuments(stdout).map(d => d.toJS() as Doc).find(d => d.metadata.name === 'crosstalk-shards')!
  const [sh, dashC, script] = container(shards).command! as [string, string, string, string]
  // the image's CLI replaced by a stand-in: exits with the code it is given, or 7 on SIGTERM after saying it started
  const dir = tempDir(t)
  const standIn = join(dir, 'stand-in.mjs')
  writeFileSync(standIn, "process.on('SIGTERM', () => process.exit(7)); console.error('started'); const code = Number(process.argv[2]); if (code >= 0) process.exit(code); else setInterval(() => {}, 1000)\n")
  chmodSync(standIn, 0o755)
  const local = script.replace('/app/bin/crosstalk.js', standIn)
  const runScript = (arg: string, signal: boolean): Promise<Run> => new Promise(resolve => {
    const child = spawn(sh, [dashC, local, 'crosstalk', arg], { env: { ...process.env, JOB_COMPLETION_INDEX: '1', HOSTNAME: 'ct-shards-1-x7k' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (signal && d.includes('started')) child.kill('SIGTERM')
    })
    child.on('close', code => resolve({ code, stdout: '', stderr }))
  })
  const failed = await runScript('3', false)
  t.is(failed.code, 3)
  t.regex(failed.stderr, /the run exited with 3; its report stays for 1 s: kubectl cp -n load -c shard ct-shards-1-x7k:\/reports\/abc\/shard-1 \.\/shard-1/)
  t.is((await runScript('0', false)).code, 0)
  const stopped = await runScript('-1', true)
  t.is(stopped.code, 7, stopped.stderr)
  t.regex(stopped.stderr, /the run exited with 7/)
})

test('bad input: one CT_ERR line, exit 2, nothing on stdout, the secret in no message', async t => {
  const files = scenarioFiles(t)
  const short = 'short-secret-value'
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['--shards', '0', '--scenario', 'items', '--target', 'http://api:8080'], /--shards must be a whole number from 1 to 1000/],
    [['--shards', '1001', '--scenario', 'items', '--target', 'http://api:8080'], /--shards must be/],
    [['--shards', '3', '--scenario', 'items'], /--target is required/],
    [['--shards', '3', '--target', 'http://api:8080'], /--scenario is required/],
    [['--shards', '3', '--scenario', 'no-such-scenario', '--target', 'http://api:8080'], /no scenario named 'no-such-scenario'/],
    [['--shards', '3', '--scenario', 'items', '--target', 'cmd:node server.js'], /a cmd: target/],
    [['--shards', '3', '--scenario', 'items', '--target', 'http://api:8080', '--image', ''], /--image '' is not an image reference/],
    [['--shards', '3', '--scenario', 'items', '--target', 'http://api:8080', '--name', 'Load_Test'], /--name 'Load_Test'/],
    [['--shards', '3', '--scenario', 'items', '--target', 'http://api:8080', '--memory', 'lots'], /--memory 'lots'/],
    [['--shards', '3', '--scenario', files.scenario, '--target', 'http://api:8080', '--', '--target', 'http://other'], /'--target' after --: the manifests set --target/],
    [['--shards', '3', '--scenario', 'items', '--target', 'http://api:8080', '--secret-from-env'], /CROSSTALK_RUN_SECRET is shorter than 32/, { [SECRET_ENV]: short }],
    [['--merge-only', '--shards', '3', '--run-id', 'r1'], /give --reports-pvc/],
    [['--merge-only', '--shards', '3', '--reports-pvc', 'reports'], /--merge-only needs the run's --run-id/]
  ]
  for (const [args, message, env] of cases) {
    const { code, stdout, stderr } = await crosstalk(['k8s', 'job', ...args], env)
    const what = args.join(' ')
    t.is(code, 2, what)
    t.is(stdout, '', what)
    const lines = stderr.trimEnd().split('\n')
    t.is(lines.length, 1, `${what}: ${stderr}`)
    t.regex(lines[0]!, /^crosstalk: CT_ERR_[A-Z_]+: \S/, what)
    t.regex(lines[0]!, message, what)
    t.false(stderr.includes(short), what)
  }
})

test('the round trip finds a field Kubernetes does not have (the check itself)', t => {
  const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'x' }, spec: { completionmode: 'Indexed', template: { spec: { containers: [{ name: 'c', image: 'i', arg: ['run'] }] } } } }
  const back = roundTrip(loadAllYaml(JSON.stringify(job))[0])
  t.notDeepEqual(back, job)
  t.is(back.spec.completionmode, undefined)
  t.is(back.spec.template.spec.containers[0].arg, undefined)
  const right = { ...job, spec: { completionMode: 'Indexed', template: { spec: { containers: [{ name: 'c', image: 'i', args: ['run'] }] } } } }
  t.deepEqual(roundTrip(loadAllYaml(JSON.stringify(right))[0]), right)
})

test('the Dockerfile builds from files the repository has, on the Node major package.json names', t => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
  const lines = dockerfile.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const entrypoint = lines.find(l => l.startsWith('ENTRYPOINT '))
  t.is(entrypoint, 'ENTRYPOINT ["node", "/app/bin/crosstalk.js"]')
  t.true(existsSync(join(REPO, 'bin/crosstalk.js')))
  // COPY from the build context (not --from=<stage>): every source exists here
  const copies = lines.filter(l => l.startsWith('COPY ') && !l.includes('--from='))
  t.true(copies.length > 0)
  for (const copy of copies) {
    const parts = copy.split(/\s+/).slice(1).filter(p => !p.startsWith('--'))
    for (const source of parts.slice(0, -1)) t.true(existsSync(join(REPO, source)), `${copy}: ${source}`)
  }
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }
  const major = /(\d+)/.exec(pkg.engines.node)![1]
  const bases = lines.filter(l => l.startsWith('FROM ')).map(l => l.split(/\s+/)[1]!)
  t.true(bases.length >= 2, 'a build stage and a runtime stage')
  for (const base of bases) t.regex(base, new RegExp(`^node:${major}[.-]`), base)
  t.true(lines.some(l => /^USER (node|\d+)$/.test(l) && !/^USER (root|0)$/.test(l)), 'not root')
  t.true(lines.some(l => l.includes('npm ci --omit=dev')))
  t.true(existsSync(join(REPO, '.dockerignore')))
  const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map(l => l.trim())
  t.true(ignored.includes('node_modules') && ignored.includes('dist'), 'the image builds its own')
})
