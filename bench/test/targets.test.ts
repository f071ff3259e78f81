import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeMeshCerts } from '@kproxy/cli/sandbox/mesh-certs'
import { envoyTcpProxyConfig, findEnvoy, freePortRange, TARGETS } from '../src/targets.ts'
import { haproxyConfig, kafkaProxyArgs, kroxyliciousConfig, parseJavaMajor } from '../src/targets-peers.ts'

t.test('Envoy tcp_proxy config names the listener, admin and upstream ports', async t => {
  const yaml = envoyTcpProxyConfig(21000, 21001, '127.0.0.1', 9092)
  t.match(yaml, /name: kafka\n    address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 21000 \} \}/)
  t.match(yaml, /admin:\n  address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 21001 \} \}/)
  t.match(yaml, /envoy\.extensions\.filters\.network\.tcp_proxy\.v3\.TcpProxy/)
  t.match(yaml, /port_value: 9092 \} \} \}\n$/)
  t.notMatch(yaml, /\t/)
})

t.test('an Envoy binary that is not there is null, so compare reports envoy as skipped', async t => {
  t.equal(findEnvoy('/nonexistent/envoy'), null)
  await t.rejects(TARGETS.envoy!.start({ host: '127.0.0.1', port: 9, brokerPid: null, envoyBin: '/nonexistent/envoy', log: () => {} }), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'no Envoy binary at /nonexistent/envoy' })
})

t.test('free port ranges are free and below the ephemeral range', async t => {
  const base = await freePortRange(8)
  t.ok(base >= 20_000 && base + 8 < 32_000)
  const s = createServer()
  await new Promise<void>(resolve => s.listen(base + 8, '127.0.0.1', resolve))
  s.close()
})

t.test('Envoy TLS sides: the broker side requires client certificates, the client side presents one and checks IP:127.0.0.1', async t => {
  const files = { cert: '/m/c.crt', key: '/m/c.key', ca: '/m/ca.crt' }
  const broker = envoyTcpProxyConfig(21000, 21001, '127.0.0.1', 9092, { downstream: files })
  t.match(broker, /DownstreamTlsContext\n {10}require_client_certificate: true/)
  t.match(broker, /certificate_chain: \{ filename: "\/m\/c\.crt" \}\n {14}private_key: \{ filename: "\/m\/c\.key" \}/)
  t.match(broker, /trusted_ca: \{ filename: "\/m\/ca\.crt" \}\n  clusters:/)
  t.notMatch(broker, /UpstreamTlsContext/)
  const client = envoyTcpProxyConfig(22000, 22001, '127.0.0.1', 21000, { upstream: files })
  t.match(client, /UpstreamTlsContext/)
  t.match(client, /match_typed_subject_alt_names:\n {12}- \{ san_type: IP_ADDRESS, matcher: \{ exact: "127\.0\.0\.1" \} \}\n    load_assignment:/)
  t.match(client, /tls_maximum_protocol_version: TLSv1_3/)
  t.notMatch(client, /DownstreamTlsContext/)
})

t.test('Envoy accepts the generated double-proxy configs (envoy --mode validate), with real mesh certificates', { skip: findEnvoy(null) === null ? 'Envoy is not installed (scripts/install-peers.sh)' : false }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-envoy-validate-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const mesh = await writeMeshCerts(join(dir, 'mesh'))
  const configs = {
    broker: envoyTcpProxyConfig(21000, 21001, '127.0.0.1', 9092, { downstream: { cert: mesh.serverCert, key: mesh.serverKey, ca: mesh.ca } }),
    client: envoyTcpProxyConfig(22000, 22001, '127.0.0.1', 21000, { upstream: { cert: mesh.clientCert, key: mesh.clientKey, ca: mesh.ca } })
  }
  for (const [side, yaml] of Object.entries(configs)) {
    const file = join(dir, `${side}.yaml`)
    writeFileSync(file, yaml)
    const r = spawnSync(findEnvoy(null)!, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '--log-level', 'error'], { encoding: 'utf8', timeout: 60_000 })
    t.equal(r.status, 0, `${side} side: ${(r.stdout + r.stderr).trim().split('\n').slice(-1)[0]}`)
  }
})

t.test('HAProxy config: mode tcp, one thread, one frontend to the broker; haproxy -c accepts it', async t => {
  const cfg = haproxyConfig(23000, '127.0.0.1', 9092)
  t.match(cfg, /^global\n {2}nbthread 1\n/)
  t.match(cfg, /defaults\n {2}mode tcp\n/)
  t.match(cfg, /bind 127\.0\.0\.1:23000\n/)
  t.match(cfg, /server broker 127\.0\.0\.1:9092\n$/)
  const bin = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find(b => existsSync(b))
  if (bin === undefined) return
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-haproxy-check-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'h.cfg'), cfg)
  const r = spawnSync(bin, ['-c', '-f', join(dir, 'h.cfg')], { encoding: 'utf8' })
  t.equal(r.status, 0, (r.stdout + r.stderr).trim())
})

t.test('kafka-proxy maps each advertised broker to its own local port; Kroxylicious gets a port-per-broker gateway', async t => {
  t.same(kafkaProxyArgs([{ host: 'b1', port: 9092 }, { host: 'b2', port: 9093 }], 24000), [
    'server', '--bootstrap-server-mapping', 'b1:9092,127.0.0.1:24000', '--bootstrap-server-mapping', 'b2:9093,127.0.0.1:24001',
    '--http-listen-address', '127.0.0.1:24002'])
  const k = kroxyliciousConfig(25000, '127.0.0.1', 9092)
  t.match(k, /bootstrapServers: 127\.0\.0\.1:9092\n/)
  t.match(k, /portIdentifiesNode:\n {10}bootstrapAddress: 127\.0\.0\.1:25000\n/)
})

t.test('java -version parsing', async t => {
  t.equal(parseJavaMajor('openjdk version "17.0.15" 2025-04-15'), 17)
  t.equal(parseJavaMajor('openjdk version "21" 2023-09-19'), 21)
  t.equal(parseJavaMajor('java version "1.8.0_392"'), 8)
  t.equal(parseJavaMajor('nothing'), null)
})

t.test('a peer that is not installed is refused with the reason install-peers.sh recorded, or how to install it', async t => {
  const cache = mkdtempSync(join(tmpdir(), 'kproxy-peers-'))
  t.teardown(() => rmSync(cache, { recursive: true, force: true }))
  const saved = { cache: process.env.KPROXY_CACHE, kp: process.env.KPROXY_KAFKA_PROXY_BIN, hp: process.env.KPROXY_HAPROXY_BIN, kx: process.env.KPROXY_KROXYLICIOUS_HOME }
  t.teardown(() => {
    for (const [k, v] of [['KPROXY_CACHE', saved.cache], ['KPROXY_KAFKA_PROXY_BIN', saved.kp], ['KPROXY_HAPROXY_BIN', saved.hp], ['KPROXY_KROXYLICIOUS_HOME', saved.kx]] as const) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v
    }
  })
  process.env.KPROXY_CACHE = cache
  process.env.KPROXY_KAFKA_PROXY_BIN = '/nonexistent/kafka-proxy'
  process.env.KPROXY_HAPROXY_BIN = '/nonexistent/haproxy'
  process.env.KPROXY_KROXYLICIOUS_HOME = '/nonexistent/kroxylicious'
  mkdirSync(join(cache, 'peers'), { recursive: true })
  writeFileSync(join(cache, 'peers', 'kafka-proxy.unavailable'), 'go install github.com/grepplabs/kafka-proxy@v0.4.3 failed: 403 Forbidden\n')
  const ctx = { host: '127.0.0.1', port: 9, brokerPid: null, log: () => {} }
  await t.rejects(TARGETS['kafka-proxy']!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'kafka-proxy is not installed: scripts/install-peers.sh: go install github.com/grepplabs/kafka-proxy@v0.4.3 failed: 403 Forbidden' })
  await t.rejects(TARGETS.haproxy!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: /^haproxy is not installed \(apt-get install haproxy/ })
  await t.rejects(TARGETS.kroxylicious!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: /^kroxylicious is not installed \(/ })
  await t.rejects(TARGETS['envoy-double']!.start({ ...ctx, envoyBin: '/nonexistent/envoy' }), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'no Envoy binary at /nonexistent/envoy' })
})

t.test('a peer that fails to start: one sentence with its last output, and what was already started is stopped', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-peer-fail-'))
  const saved = { hp: process.env.KPROXY_HAPROXY_BIN }
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
    if (saved.hp === undefined) delete process.env.KPROXY_HAPROXY_BIN; else process.env.KPROXY_HAPROXY_BIN = saved.hp
  })
  const failing = join(dir, 'fails')
  writeFileSync(failing, '#!/bin/sh\necho "[ALERT] cannot bind socket" >&2\nexit 3\n', { mode: 0o755 })
  process.env.KPROXY_HAPROXY_BIN = failing
  const ctx = { host: '127.0.0.1', port: 9, brokerPid: null, log: () => {} }
  await t.rejects(TARGETS.haproxy!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'haproxy exited during start-up (3): [ALERT] cannot bind socket' })
  const envoy = findEnvoy(null)
  if (envoy === null) return
  // the broker side starts (the real Envoy, recording its pid), the client side fails
  const script = join(dir, 'envoy')
  writeFileSync(script, `#!/bin/sh\nif [ -e ${dir}/first.pid ]; then echo "client side refused" >&2; exit 1; fi\necho $$ > ${dir}/first.pid\nexec ${envoy} "$@"\n`, { mode: 0o755 })
  await t.rejects(TARGETS['envoy-double']!.start({ ...ctx, envoyBin: script }), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'envoy-double client side exited during start-up (1): client side refused' })
  const pid = Number(readFileSync(join(dir, 'first.pid'), 'utf8'))
  let alive = true
  try { process.kill(pid, 0) } catch { alive = false }
  t.notOk(alive, `the broker-side Envoy (pid ${pid}) was stopped`)
})

t.test('the *-base targets name what is missing: KPROXY_BENCH_BASE unset, or not a kproxy checkout', async t => {
  const saved = process.env.KPROXY_BENCH_BASE
  const notCheckout = mkdtempSync(join(tmpdir(), 'kproxy-bench-base-'))
  t.teardown(() => {
    rmSync(notCheckout, { recursive: true, force: true })
    if (saved === undefined) delete process.env.KPROXY_BENCH_BASE; else process.env.KPROXY_BENCH_BASE = saved
  })
  const ctx = { host: '127.0.0.1', port: 9, brokerPid: null, log: () => {} }
  for (const name of ['kproxy-base', 'kproxy-double-base', 'kproxy-mesh-2w-base']) {
    delete process.env.KPROXY_BENCH_BASE
    await t.rejects(TARGETS[name]!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: new RegExp(`^${name} needs KPROXY_BENCH_BASE=DIR`) }, `${name} without KPROXY_BENCH_BASE`)
    process.env.KPROXY_BENCH_BASE = notCheckout
    await t.rejects(TARGETS[name]!.start(ctx), { code: 'KPROXY_ERR_BENCH_TARGET', message: `kproxy serve is not part of the checkout ${notCheckout}/` }, `${name} with a directory that is not a checkout`)
  }
})
