// deploy/kubernetes/: every kustomization rendered (base, overlays, sidecar example) and every
// object in it validated against the Kubernetes API schemas, with no network (see
// helpers/kubernetes-manifests.ts); kproxy's own config files checked by `kproxy check-config`;
// and the pieces that must agree across files (ports advertised = Service ports, probes on the
// admin port, a grace period that covers the drain, PDB selectors, the sidecar start-up order).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { K8sObject } from '../helpers/kubernetes-manifests.ts'
import { describe, findKustomize, kustomizeBuild, parseManifests, schemaProblems, typeProblems } from '../helpers/kubernetes-manifests.ts'

const ROOT = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

// Every directory with a kustomization.yaml.
function kustomizations (dir: string): string[] {
  const out: string[] = []
  const names = readdirSync(dir)
  if (names.includes('kustomization.yaml')) out.push(dir)
  for (const n of names) if (statSync(join(dir, n)).isDirectory()) out.push(...kustomizations(join(dir, n)))
  return out
}

interface Container { name: string, args?: string[], command?: string[], ports?: Array<{ name?: string, containerPort: number }>, env?: Array<{ name: string, value?: string }>,
  restartPolicy?: string, readinessProbe?: Probe, livenessProbe?: Probe, startupProbe?: Probe,
  lifecycle?: { preStop?: { sleep?: { seconds: number } }, postStart?: { exec?: { command: string[] } } }, volumeMounts?: Array<{ name: string, mountPath: string }> }
interface Probe { httpGet?: { path: string, port: string | number } }
interface PodSpec { containers: Container[], initContainers?: Container[], terminationGracePeriodSeconds?: number, volumes?: Array<{ name: string, configMap?: { name: string } }> }
interface KproxyConfig { admin: string, shutdownTimeoutMs?: number, brokerMode: { listen: string, advertisedHost?: string, brokerPorts: { base: number } } }

const podSpec = (d: K8sObject): PodSpec => (d.spec as { template: { spec: PodSpec } }).template.spec
const port = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))
const runsKproxyServe = (c: Container): boolean => c.args?.[0] === 'serve'

// The kproxy config a container runs: the ConfigMap mounted where --config points.
function configOf (pod: PodSpec, c: Container, objects: readonly K8sObject[]): KproxyConfig {
  const file = c.args![c.args!.indexOf('--config') + 1]!
  const mount = c.volumeMounts!.find(m => file.startsWith(m.mountPath + '/'))!
  const volume = pod.volumes!.find(v => v.name === mount.name)!
  const cm = objects.find(o => o.kind === 'ConfigMap' && o.metadata?.name === volume.configMap!.name)
  if (cm === undefined) throw new Error(`no ConfigMap ${volume.configMap!.name}`)
  return parse((cm.data as Record<string, string>)[file.slice(mount.mountPath.length + 1)]!) as KproxyConfig
}

function flag (c: Container, name: string): string | undefined {
  const i = c.args?.indexOf(name) ?? -1
  return i < 0 ? undefined : c.args![i + 1]
}

function checkConfig (file: string): Promise<{ code: number | null, out: string }> {
  return new Promise(resolve => {
    execFile(KPROXY, ['check-config', file], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: stdout + stderr })
    })
  })
}

const kustomize = findKustomize()
const dirs = kustomizations(ROOT)

t.test('the kustomizations', async t => {
  t.ok(kustomize, 'kustomize is installed (scripts/setup.sh installs it into $KPROXY_CACHE/toolchain/bin)')
  t.same(dirs.map(d => d.slice(ROOT.length)).sort(), ['base', 'overlays/production', 'overlays/small', 'sidecar'])
})

for (const dir of dirs) {
  const name = dir.slice(ROOT.length)
  t.test(`${name}: rendered and validated`, async t => {
    if (kustomize === null) return t.fail('kustomize is missing; run scripts/setup.sh')
    const objects = await kustomizeBuild(kustomize, dir)
    t.ok(objects.length > 0, `${objects.length} objects: ${objects.map(describe).join(', ')}`)
    // The files listed as resources, as written (the render above includes them transformed).
    const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[], configMapGenerator?: Array<{ files: string[] }> }
    const raw = (kustomization.resources ?? []).filter(r => r.endsWith('.yaml'))
      .flatMap(r => parseManifests(readFileSync(join(dir, r), 'utf8'), join(dir, r)))
    for (const o of [...objects, ...raw]) t.same(await schemaProblems(o), [], `${describe(o)}: Kubernetes API schema`)
    t.same(typeProblems([...objects, ...raw]), [], 'no unknown fields, no wrong types (kubernetes-models TypeScript types)')

    for (const file of (kustomization.configMapGenerator ?? []).flatMap(g => g.files)) {
      const r = await checkConfig(join(dir, file))
      t.equal(r.code, 0, `kproxy check-config ${name}/${file}: ${r.out.trim()}`)
    }

    for (const d of objects.filter(o => o.kind === 'Deployment')) {
      const pod = podSpec(d)
      const all = [...(pod.initContainers ?? []), ...pod.containers]
      for (const c of all.filter(runsKproxyServe)) {
        const config = configOf(pod, c, objects)
        const admin = port(config.admin)
        const listen = port(config.brokerMode.listen)
        const portOf = (p: string | number | undefined): number | undefined => typeof p === 'number' ? p : c.ports?.find(x => x.name === p)?.containerPort
        t.equal(portOf(c.readinessProbe?.httpGet?.port), admin, `${describe(d)}: readiness probe on the admin port`)
        t.equal(c.readinessProbe?.httpGet?.path, '/ready')
        t.equal(portOf(c.livenessProbe?.httpGet?.port), admin, `${describe(d)}: liveness probe on the admin port`)
        t.equal(c.livenessProbe?.httpGet?.path, '/healthz')
        // Grace: preStop, then kproxy drains for shutdownTimeoutMs, then exits.
        const drainS = (config.shutdownTimeoutMs ?? 10_000) / 1000
        const preStopS = c.lifecycle?.preStop?.sleep?.seconds ?? 0
        t.ok((pod.terminationGracePeriodSeconds ?? 30) >= preStopS + drainS + 1,
          `${describe(d)}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} covers preStop ${preStopS} s + drain ${drainS} s`)

        if (listen === 9092 && config.brokerMode.listen.startsWith('0.0.0.0')) {
          // The shared tier: clients reach the replicas through a Service, and kproxy advertises
          // its own ports with the Service's name, so the Service must expose the same numbers.
          const service = objects.find(o => o.kind === 'Service')!
          const ns = d.metadata?.namespace
          t.equal(config.brokerMode.advertisedHost, `${service.metadata!.name}.${ns}.svc.cluster.local`, `${describe(d)}: advertises the Service's name`)
          const servicePorts = (service.spec as { ports: Array<{ name: string, port: number, targetPort: string }> }).ports
          const expected = [listen, ...[0, 1, 2].map(id => config.brokerMode.brokerPorts.base + id)]
          t.same(servicePorts.map(p => p.port), expected, 'Service ports: bootstrap and brokers 0..2 (base + id)')
          for (const p of servicePorts) t.equal(portOf(p.targetPort), p.port, `Service port ${p.name} goes to the same container port`)
          t.same((service.spec as { selector: unknown }).selector, (d.spec as { selector: { matchLabels: unknown } }).selector.matchLabels, 'the Service selects the Deployment\'s pods')
          const pdb = objects.find(o => o.kind === 'PodDisruptionBudget')!
          t.same((pdb.spec as { selector: unknown }).selector, (d.spec as { selector: unknown }).selector, 'the PodDisruptionBudget covers the Deployment')
          t.ok(((d.spec as { replicas: number }).replicas) >= 2, 'at least two replicas, so a disruption leaves one serving')
          const workers = Number(flag(c, '--workers') ?? (parse(readFileSync(join(ROOT, 'base', 'kproxy.yaml'), 'utf8')) as { workers: number }).workers)
          t.comment(`${name}: ${(d.spec as { replicas: number }).replicas} replicas x ${workers} worker(s)`)
        }
      }
    }
  })
}

t.test('sidecar: the application starts only after kproxy wait-ready', async t => {
  if (kustomize === null) return t.fail('kustomize is missing; run scripts/setup.sh')
  const objects = await kustomizeBuild(kustomize, join(ROOT, 'sidecar'))
  const native = podSpec(objects.find(o => o.kind === 'Deployment' && o.metadata?.name === 'orders')!)
  const [sidecar, wait] = native.initContainers!
  t.ok(sidecar !== undefined && runsKproxyServe(sidecar), 'kproxy is the first init container')
  t.equal(sidecar!.restartPolicy, 'Always', 'as a native sidecar (kept running beside the application)')
  const admin = port(configOf(native, sidecar!, objects).admin)
  t.same(wait!.args, ['wait-ready', '--admin', `127.0.0.1:${admin}`, '--timeout', '120s'], 'the next init container waits for its /ready')
  const app = native.containers[0]!
  t.equal(app.env?.find(e => e.name === 'KAFKA_BOOTSTRAP_SERVERS')?.value, configOf(native, sidecar!, objects).brokerMode.listen, 'the application bootstraps on kproxy\'s listen address')

  const classic = podSpec(objects.find(o => o.kind === 'Deployment' && o.metadata?.name === 'orders-classic')!)
  t.ok(runsKproxyServe(classic.containers[0]!), 'classic: kproxy is the first container')
  t.same(classic.containers[0]!.lifecycle?.postStart?.exec?.command, ['kproxy', 'wait-ready', '--admin', `127.0.0.1:${admin}`, '--timeout', '120s'],
    'its postStart hook holds the next container until kproxy is ready')
})

t.test('the validation catches broken manifests', async t => {
  if (kustomize === null) return t.fail('kustomize is missing; run scripts/setup.sh')
  const objects = await kustomizeBuild(kustomize, join(ROOT, 'base'))
  // TypeScript reports the first unknown field of an object: one broken copy per case
  const unknownField = structuredClone(objects.find(o => o.kind === 'Deployment')!)
  ;(unknownField.spec as Record<string, unknown>).replicaz = 3
  t.match(typeProblems([unknownField]).join('\n'), /Deployment\/kproxy: .*'"replicaz"' does not exist in type/, 'an unknown field')
  const misspelt = structuredClone(objects.find(o => o.kind === 'Deployment')!)
  ;((misspelt.spec as { template: { spec: PodSpec } }).template.spec.containers[0] as unknown as Record<string, unknown>).readynessProbe = { httpGet: { path: '/ready', port: 'admin' } }
  t.match(typeProblems([misspelt]).join('\n'), /'"readynessProbe"' does not exist in type 'IContainer'/, 'a misspelt probe')
  const wrongType = structuredClone(objects.find(o => o.kind === 'Deployment')!)
  ;((wrongType.spec as { template: { spec: PodSpec } }).template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'nine-oh-nine-two'
  t.match((await schemaProblems(wrongType)).join('\n'), /containerPort must be integer/, 'a wrong type')
  t.match((await schemaProblems({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} })).join('\n'), /must have required property/, 'a missing required field')
  t.match((await schemaProblems({ apiVersion: 'nope/v9', kind: 'Thing' })).join('\n'), /no Kubernetes API schema/)

  const scratch = mkdtempSync(join(tmpdir(), 'kproxy-k8s-config-'))
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
  writeFileSync(join(scratch, 'bad.yaml'), 'brokerMode:\n  listen: 0.0.0.0:9092\n  upstream: [x:1]\n  brokerPorts:\n    base: 9092\n')
  const r = await checkConfig(join(scratch, 'bad.yaml'))
  t.equal(r.code, 1, 'kproxy check-config refuses a config ConfigMap that kproxy would refuse')
})
