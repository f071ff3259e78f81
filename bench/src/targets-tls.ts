// The mTLS double-proxy targets, the service-mesh picture:
//
//   generator --plaintext--> client-side proxy --mTLS (mesh CA)--> broker-side proxy --plaintext--> broker
//
// kproxy-double: two `kproxy serve` processes, 1 worker thread each. The broker-side kproxy
// rewrites the broker's addresses to its own TLS ports, the client-side kproxy rewrites those
// again to its plaintext ports, so every connection goes through the tunnel.
// envoy-double: two Envoys (`tcp_proxy`, `--concurrency 1` each). Envoy does not rewrite Metadata,
// so runs through it send every partition to the client-side address (--pin-target, 1 broker).
// Certificates: a fresh mesh CA, a server certificate (IP:127.0.0.1) for the broker side and a
// client certificate for the client side (@kproxy/core certs via the sandbox's mesh-certs), in a
// temporary directory removed on stop.
import type { ChildProcess } from 'node:child_process'
import { DEFAULT_CIPHERS } from 'node:tls'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeMeshCerts } from '@kproxy/cli/sandbox/mesh-certs'
import type { MeshCerts } from '@kproxy/cli/sandbox/mesh-certs'
import { envoyTcpProxyConfig } from './targets-envoy-config.ts'
import { adminReady, envoyMissing, findEnvoy, freePortRange, kproxyMain, REPO, startProcess, stopChild } from './targets-process.ts'
import type { RunningTarget, TargetContext, TargetDef } from './targets.ts'

// Starts the two sides in order and stops whatever was started (broker side last) when a later
// step fails, so that a target that cannot start leaves no process and no certificate behind.
export async function twoSides (name: string, prefix: string, body: (dir: string, mesh: MeshCerts, started: ChildProcess[]) => Promise<Omit<RunningTarget, 'stop' | 'name'>>): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const started: ChildProcess[] = []
  const stop = async (): Promise<void> => {
    for (const c of [...started].reverse()) await stopChild(c)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const mesh = await writeMeshCerts(join(dir, 'mesh'))
    const running = await body(dir, mesh, started)
    return { name, ...running, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

// Node's default cipher list with TLS_AES_128_GCM_SHA256 first: Node (OpenSSL) offers
// TLS_AES_256_GCM_SHA384 first and, with the server taking the client's order, the two kproxies
// agree on it; BoringSSL (Envoy) puts AES-128-GCM first where the CPU has AES instructions.
export const AES128_FIRST = ['TLS_AES_128_GCM_SHA256', ...DEFAULT_CIPHERS.split(':').filter(c => c !== 'TLS_AES_128_GCM_SHA256')].join(':')

// `nodeArgs` go before the script on both sides' command lines (Node options, e.g. the cipher list)
function kproxyDoubleTarget (name: string, description: string, nodeArgs: readonly string[], tree: () => string | null = () => REPO): TargetDef {
  return {
    name,
    description,
    async start (ctx: TargetContext) {
      return await startKproxyDouble(name, ctx, nodeArgs, kproxyMain(name, tree()))
    }
  }
}

export const kproxyDouble = kproxyDoubleTarget('kproxy-double', 'kproxy double proxy: client-side kproxy -> mTLS -> broker-side kproxy, 1 worker thread each', [])
// the TLS cipher lead of issue 12 (A/B against kproxy-double in the same run)
// the A/B of a change to the TLS path: both kproxies from the checkout in KPROXY_BENCH_BASE
export const kproxyDoubleBase = kproxyDoubleTarget('kproxy-double-base', 'kproxy-double from the checkout in KPROXY_BENCH_BASE', [], () => process.env.KPROXY_BENCH_BASE ?? null)
export const kproxyDoubleAes128 = kproxyDoubleTarget('kproxy-double-aes128', 'kproxy-double with TLS_AES_128_GCM_SHA256 preferred (node --tls-cipher-list) instead of Node\'s TLS_AES_256_GCM_SHA384', [`--tls-cipher-list=${AES128_FIRST}`])

async function startKproxyDouble (name: string, ctx: TargetContext, nodeArgs: readonly string[], main: string): Promise<RunningTarget> {
  return await twoSides(name, `kproxy-bench-${name}-`, async (_dir, mesh, started) => {
    // listen L, brokers from L+2 (kproxy's default base L+1), admin L+8
    const b = await freePortRange(8)
    const brokerSide = await startProcess(`${name} broker side`, process.execPath, [...nodeArgs, main, 'serve',
      '--upstream', `${ctx.host}:${ctx.port}`, '--listen', `127.0.0.1:${b}`, '--workers', '1', '--admin', `127.0.0.1:${b + 8}`, '--log-level', 'warn',
      '--tls-cert', mesh.serverCert, '--tls-key', mesh.serverKey, '--tls-ca', mesh.ca, '--tls-client-auth', 'require'
    ], '127.0.0.1', b, adminReady(b + 8))
    started.push(brokerSide.child)
    const c = await freePortRange(8)
    const clientSide = await startProcess(`${name} client side`, process.execPath, [...nodeArgs, main, 'serve',
      '--upstream', `127.0.0.1:${b}`, '--listen', `127.0.0.1:${c}`, '--workers', '1', '--admin', `127.0.0.1:${c + 8}`, '--log-level', 'warn',
      '--upstream-tls', '--upstream-tls-ca', mesh.ca, '--upstream-tls-cert', mesh.clientCert, '--upstream-tls-key', mesh.clientKey
    ], '127.0.0.1', c, adminReady(c + 8))
    started.push(clientSide.child)
    ctx.log(`${name}: 127.0.0.1:${c} -> mTLS -> 127.0.0.1:${b} -> ${ctx.host}:${ctx.port}`)
    const pids = started.map(p => p.pid).filter((p): p is number => p !== undefined)
    return { host: '127.0.0.1', port: c, pid: clientSide.child.pid ?? null, pids }
  })
}

export const envoyDouble: TargetDef = {
  name: 'envoy-double',
  description: 'Envoy tcp_proxy double proxy: client-side Envoy -> mTLS -> broker-side Envoy, --concurrency 1 each',
  async start (ctx: TargetContext) {
    const bin = findEnvoy(ctx.envoyBin)
    if (bin === null) throw envoyMissing(ctx.envoyBin)
    const flags = ['--concurrency', '1', '--disable-hot-restart', '--log-level', 'warn']
    return await twoSides('envoy-double', 'kproxy-bench-envoy-double-', async (dir, mesh, started) => {
      // listener P, admin P+1 (hot restart is off, so the two Envoys share no memory segment)
      const b = await freePortRange(1)
      const brokerConfig = join(dir, 'broker-side.yaml')
      writeFileSync(brokerConfig, envoyTcpProxyConfig(b, b + 1, ctx.host, ctx.port, { downstream: { cert: mesh.serverCert, key: mesh.serverKey, ca: mesh.ca } }))
      const brokerSide = await startProcess('envoy-double broker side', bin, ['-c', brokerConfig, ...flags], '127.0.0.1', b)
      started.push(brokerSide.child)
      const c = await freePortRange(1)
      const clientConfig = join(dir, 'client-side.yaml')
      writeFileSync(clientConfig, envoyTcpProxyConfig(c, c + 1, '127.0.0.1', b, { upstream: { cert: mesh.clientCert, key: mesh.clientKey, ca: mesh.ca } }))
      const clientSide = await startProcess('envoy-double client side', bin, ['-c', clientConfig, ...flags], '127.0.0.1', c)
      started.push(clientSide.child)
      ctx.log(`envoy-double: 127.0.0.1:${c} -> mTLS -> 127.0.0.1:${b} -> ${ctx.host}:${ctx.port}`)
      const pids = started.map(p => p.pid).filter((p): p is number => p !== undefined)
      return { host: '127.0.0.1', port: c, pid: clientSide.child.pid ?? null, pids, extraArgs: ['--pin-target'] }
    })
  }
}
