// Peers beside Envoy, each one process in front of the cluster with one thread where the peer
// lets us say so, found where scripts/install-peers.sh puts them (or on PATH, or via an env var):
//   haproxy       Debian haproxy, `mode tcp`, nbthread 1 (layer 4: --pin-target, 1 broker)
//   kafka-proxy   grepplabs/kafka-proxy (Go), one local port per broker, GOMAXPROCS=1
//   kroxylicious  Kroxylicious (Java 21+, Netty), port-per-broker gateway
// A peer that is not installed throws "<peer> is not installed (...)" and compare lists it as
// skipped with that reason (and the reason install-peers.sh left, if any).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { SetupConnection } from './connection.ts'
import { fetchMetadata } from './requests.ts'
import { freePortRange, installNote, onPath, peersDir, startProcess, stopChild } from './targets-process.ts'
import type { RunningTarget, TargetContext, TargetDef } from './targets.ts'

// The reason install-peers.sh recorded when it tried and failed, else how to install the peer.
function notInstalled (peer: string, how: string): KproxyError {
  const note = installNote(peer)
  return new KproxyError('KPROXY_ERR_BENCH_TARGET', note === '' ? `${peer} is not installed (${how})` : `${peer} is not installed: scripts/install-peers.sh: ${note}`)
}

// A binary from $ENV_VAR, the peers directory or PATH, in that order; null when none exists.
function findBin (envVar: string, name: string, extra: readonly string[] = []): string | null {
  const env = process.env[envVar]
  if (env !== undefined && env !== '') return existsSync(env) ? env : null
  for (const p of [join(peersDir(), 'bin', name), ...extra]) if (existsSync(p)) return p
  return onPath(name)
}

// A temporary directory for a peer's config, removed with the peer (or at once if it fails).
async function withConfigDir (prefix: string, body: (dir: string) => Promise<RunningTarget>): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  try {
    const running = await body(dir)
    const stop = running.stop
    return { ...running, stop: async () => { await stop(); rmSync(dir, { recursive: true, force: true }) } }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

export function haproxyConfig (listenPort: number, upstreamHost: string, upstreamPort: number): string {
  // no maxconn: HAProxy derives it from the descriptor limit (2 per relayed connection)
  return `global
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 10m
  timeout server 10m
frontend kafka
  bind 127.0.0.1:${listenPort}
  default_backend kafka
backend kafka
  server broker ${upstreamHost}:${upstreamPort}
`
}

export const haproxy: TargetDef = {
  name: 'haproxy',
  description: 'HAProxy mode tcp, nbthread 1 (Debian haproxy)',
  async start (ctx: TargetContext) {
    const bin = findBin('KPROXY_HAPROXY_BIN', 'haproxy', ['/usr/sbin/haproxy'])
    if (bin === null) throw notInstalled('haproxy', 'apt-get install haproxy, or scripts/install-peers.sh')
    return await withConfigDir('kproxy-bench-haproxy-', async dir => {
      const port = await freePortRange(1)
      const config = join(dir, 'haproxy.cfg')
      writeFileSync(config, haproxyConfig(port, ctx.host, ctx.port))
      // -db: foreground, no master process, so the child is the proxy whose CPU counts
      const { child } = await startProcess('haproxy', bin, ['-db', '-f', config], '127.0.0.1', port)
      return { name: 'haproxy', host: '127.0.0.1', port, pid: child.pid ?? null, extraArgs: ['--pin-target'], stop: () => stopChild(child) }
    })
  }
}

// The brokers as the cluster advertises them: kafka-proxy's mappings must start with exactly
// those addresses (it matches Metadata answers against them).
async function advertisedBrokers (host: string, port: number): Promise<Array<{ id: number, host: string, port: number }>> {
  const conn = await SetupConnection.open(host, port)
  try {
    const { brokers } = await fetchMetadata(conn, null)
    return [...brokers].map(([id, b]) => ({ id, host: b.host, port: b.port })).sort((a, b) => a.id - b.id)
  } finally {
    conn.close()
  }
}

export function kafkaProxyArgs (brokers: ReadonlyArray<{ host: string, port: number }>, base: number): string[] {
  const args = ['server']
  brokers.forEach((b, i) => args.push('--bootstrap-server-mapping', `${b.host}:${b.port},127.0.0.1:${base + i}`))
  args.push('--http-listen-address', `127.0.0.1:${base + brokers.length}`)
  return args
}

export const kafkaProxy: TargetDef = {
  name: 'kafka-proxy',
  description: 'grepplabs/kafka-proxy v0.4.3, GOMAXPROCS=1',
  async start (ctx: TargetContext) {
    const bin = findBin('KPROXY_KAFKA_PROXY_BIN', 'kafka-proxy')
    if (bin === null) throw notInstalled('kafka-proxy', 'go install github.com/grepplabs/kafka-proxy@v0.4.3 into ~/.cache/kproxy/peers/bin, or scripts/install-peers.sh')
    const brokers = await advertisedBrokers(ctx.host, ctx.port)
    const base = await freePortRange(brokers.length)
    const at = brokers.findIndex(b => b.port === ctx.port)
    const port = base + (at < 0 ? 0 : at)
    const { child } = await startProcess('kafka-proxy', bin, kafkaProxyArgs(brokers, base), '127.0.0.1', port, { env: { ...process.env, GOMAXPROCS: '1' } })
    return { name: 'kafka-proxy', host: '127.0.0.1', port, pid: child.pid ?? null, stop: () => stopChild(child) }
  }
}

// Kroxylicious's start script from the unpacked bin archive (kroxylicious-app-<v>/bin).
function findKroxylicious (): string | null {
  const env = process.env.KPROXY_KROXYLICIOUS_HOME
  const homes = env !== undefined && env !== '' ? [env] : []
  const dir = join(peersDir(), 'kroxylicious')
  if (existsSync(dir)) for (const d of readdirSync(dir).sort().reverse()) if (d.startsWith('kroxylicious-app-')) homes.push(join(dir, d))
  for (const h of homes) if (existsSync(join(h, 'bin', 'kroxylicious-start.sh'))) return h
  return null
}

// The major version `java -version` reports ("21.0.5" -> 21, "1.8.0" -> 8), or null.
export function javaMajor (java: string): number | null {
  try {
    const out = execFileSync(java, ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 })
    return parseJavaMajor(out)
  } catch (err) {
    const e = err as { stderr?: string }
    return typeof e.stderr === 'string' ? parseJavaMajor(e.stderr) : null
  }
}

export function parseJavaMajor (text: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text)
  if (m === null) return null
  return m[1] === '1' && m[2] !== undefined ? Number(m[2]) : Number(m[1])
}

// A Java home of version 21 or newer: $KPROXY_JAVA21_HOME, the peers' jdk*, $JAVA_HOME,
// /usr/lib/jvm/* (Debian's openjdk-N), or the java on PATH.
function findJava21 (): { home: string | null, java: string } | null {
  const homes: string[] = []
  for (const v of [process.env.KPROXY_JAVA21_HOME, process.env.JAVA_HOME]) if (v !== undefined && v !== '') homes.push(v)
  for (const root of [peersDir(), '/usr/lib/jvm']) {
    if (existsSync(root)) for (const d of readdirSync(root).sort().reverse()) if (/^(jdk|jre|java|openjdk|temurin)/.test(d)) homes.push(join(root, d))
  }
  for (const home of homes) {
    const java = join(home, 'bin', 'java')
    if (existsSync(java) && (javaMajor(java) ?? 0) >= 21) return { home, java }
  }
  const java = onPath('java')
  return java !== null && (javaMajor(java) ?? 0) >= 21 ? { home: null, java } : null
}

// Port-per-broker gateway: bootstrap on `base`, node ids 0..9 on base+1..base+10 (the sandbox
// numbers its nodes from 1).
export function kroxyliciousConfig (base: number, upstreamHost: string, upstreamPort: number): string {
  return `virtualClusters:
  - name: bench
    targetCluster:
      bootstrapServers: ${upstreamHost}:${upstreamPort}
    gateways:
      - name: default
        portIdentifiesNode:
          bootstrapAddress: 127.0.0.1:${base}
          nodeIdRanges:
            - name: brokers
              start: 0
              end: 9
`
}

export const kroxylicious: TargetDef = {
  name: 'kroxylicious',
  description: 'Kroxylicious 0.23.0, no filters (Java 21+)',
  async start (ctx: TargetContext) {
    const home = findKroxylicious()
    if (home === null) throw notInstalled('kroxylicious', 'the io.kroxylicious:kroxylicious-app bin archive unpacked under ~/.cache/kproxy/peers/kroxylicious, or scripts/install-peers.sh')
    const java = findJava21()
    if (java === null) {
      const note = installNote('java21')
      throw new KproxyError('KPROXY_ERR_BENCH_TARGET', `Kroxylicious needs Java 21 or newer and none was found (set KPROXY_JAVA21_HOME)${note === '' ? '' : `: ${note}`}`)
    }
    return await withConfigDir('kproxy-bench-kroxylicious-', async dir => {
      const base = await freePortRange(10)
      const config = join(dir, 'config.yaml')
      writeFileSync(config, kroxyliciousConfig(base, ctx.host, ctx.port))
      const env = { ...process.env, ...(java.home === null ? {} : { JAVA_HOME: java.home, PATH: `${join(java.home, 'bin')}:${process.env.PATH ?? ''}` }) }
      const { child } = await startProcess('kroxylicious', join(home, 'bin', 'kroxylicious-start.sh'), ['--config', config], '127.0.0.1', base, { env })
      return { name: 'kroxylicious', host: '127.0.0.1', port: base, pid: child.pid ?? null, stop: () => stopChild(child) }
    })
  }
}
