// Issue 4 acceptance, the double proxy: `kproxy sandbox up --topology double-proxy-tls` as a user
// runs it, then real clients through
//   client -> plaintext -> client-side kproxy -> mTLS -> broker-side kproxy -> TLS (client cert) -> 3 brokers (SSL)
// 100,000 records (`pnpm test:full`; 20,000 in `pnpm test`) from kcat and as many from kafkajs read back by consumer groups (exact count
// and content, no duplicates); metadata names only the client-side kproxy; a plaintext client on
// the broker-side kproxy is refused and counted (not_tls); the broker-side kproxy logs the
// principal of the client-side certificate; SIGTERM (and SIGKILL) of the CLI leave nothing behind.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import type { DoubleProxyInfo } from '@kproxy/cli/sandbox/double-proxy'
import { hasKcat, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { createDurableTopics, groupCoordinatorReady, kafkajsGroupRead, kcatGroupRead, perSecond, tally } from '../helpers/e2e-records.ts'
import { metricSum } from '../helpers/serve-kproxy.ts'
import { processesMentioning, sandboxUp } from '../helpers/sandbox-up.ts'
import { watchSandboxFile } from '../helpers/sandbox-file-watch.ts'
import { count, scaled } from '../helpers/scale.ts'
import { eventually } from '../helpers/eventually.ts'

const N = scaled(100_000, 20_000)
const TOPOLOGY = ['--topology', 'double-proxy-tls']

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-double-proxy-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

function portOf (hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))
}

// kproxy's JSON log lines in a file (a line that is not JSON is skipped).
function logLines (file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try { out.push(JSON.parse(line) as Record<string, unknown>) } catch {}
  }
  return out
}

t.test(`double-proxy-tls, 3 brokers: ${count(N)} records each from kcat and kafkajs through the tunnel`, { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const dir = join(scratch, 'three')
  const run = await sandboxUp<DoubleProxyInfo>([...TOPOLOGY, '--brokers', '3', '--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  const info = run.info
  t.comment(`kproxy sandbox up --topology double-proxy-tls --brokers 3: ready after ${run.readyMs} ms`)
  t.same(JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')), info, 'DIR/sandbox.json is what was printed')
  t.equal(info.topology, 'double-proxy-tls')
  t.equal(info.clientBootstrap, info.proxies.clientSide.bootstrap)
  t.equal(info.proxies.clientSide.upstream, info.proxies.brokerSide.bootstrap, 'the client side dials the broker side')
  t.equal(info.proxies.brokerSide.upstream, info.tls!.bootstrap, "the broker side dials the brokers' SSL listeners")
  for (const key of [info.proxies.brokerSide.tlsKey, info.proxies.clientSide.upstreamTlsKey]) {
    t.equal(readFileSync(key, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----'), true, `${key} is a PKCS#8 key`)
  }
  t.comment(`broker-side kproxy log: ${info.proxies.brokerSide.log}; client-side: ${info.proxies.clientSide.log}`)

  const kafka = new Kafka({ clientId: 'double-proxy', brokers: [info.clientBootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topics = { kcat: `dp-kcat-${unique}`, kafkajs: `dp-kafkajs-${unique}` }
  await createDurableTopics(admin, Object.values(topics), 3)

  async function endOffsetsSum (topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  }

  t.test('metadata through clientBootstrap names only the client-side kproxy', async t => {
    const clientPort = portOf(info.clientBootstrap)
    const meta = await kcat(['-L', '-b', info.clientBootstrap, '-m', '10'])
    t.equal(meta.code, 0, meta.stderr)
    const seen = kcatBrokers(meta.stdout)
    t.same(seen.map(b => b.id), [1, 2, 3], 'three brokers')
    // kproxy serves broker N on listen port + 1 + N
    t.same(seen.map(b => `${b.host}:${b.port}`), [1, 2, 3].map(id => `127.0.0.1:${clientPort + 1 + id}`), "every broker at the client-side kproxy's ports")
    const cluster = await admin.describeCluster()
    t.same(cluster.brokers.map(b => `${b.host}:${b.port}`).sort(), [1, 2, 3].map(id => `127.0.0.1:${clientPort + 1 + id}`).sort(), 'kafkajs sees the same')
    const inner = new Set([...info.brokers.flatMap(b => [b.port, b.tlsPort]), portOf(info.proxies.brokerSide.bootstrap),
      ...[1, 2, 3].map(id => portOf(info.proxies.brokerSide.bootstrap) + 1 + id)])
    t.same(seen.filter(b => inner.has(b.port)), [], 'no broker or broker-side kproxy address leaks to the client')
  })

  t.test('kcat, idempotent, acks=all -> kafkajs consumer group', async t => {
    const expected = Array.from({ length: N }, (_, i) => `dp-kcat-${i}-${'k'.repeat(i % 37)}`)
    const started = Date.now()
    const r = await kcat(['-P', '-b', info.clientBootstrap, '-t', topics.kcat, '-X', 'enable.idempotence=true', '-X', 'acks=all', '-X', 'linger.ms=5'],
      { input: expected.join('\n') + '\n', timeoutMs: 120_000 })
    t.equal(r.code, 0, r.code === 0 ? 'kcat exits 0' : r.stderr)
    t.comment(`kcat produced ${N} records through the double proxy: ${perSecond(N, Date.now() - started)}`)
    t.equal(await endOffsetsSum(topics.kcat), N, 'the log holds exactly N records')
    await groupCoordinatorReady(admin, `g-${topics.kcat}`)
    const readAt = Date.now()
    const got = await kafkajsGroupRead(kafka, topics.kcat, `g-${topics.kcat}`, N, 120_000)
    t.comment(`kafkajs group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('kafkajs, idempotent, acks -1 -> kcat consumer group', async t => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const expected = Array.from({ length: N }, (_, i) => `dp-kafkajs-${i}`)
    const started = Date.now()
    for (let i = 0; i < N; i += 5000) {
      await producer.send({ topic: topics.kafkajs, acks: -1, messages: expected.slice(i, i + 5000).map((value, j) => ({ key: String(i + j), value })) })
    }
    t.comment(`kafkajs produced ${N} records through the double proxy: ${perSecond(N, Date.now() - started)}`)
    t.equal(await endOffsetsSum(topics.kafkajs), N, 'the log holds exactly N records')
    const readAt = Date.now()
    const got = await kcatGroupRead(info.clientBootstrap, topics.kafkajs, `g-${topics.kafkajs}`, 120_000)
    t.comment(`kcat group read them back: ${perSecond(got.length, Date.now() - readAt)}`)
    t.same(tally(got, expected), { count: N, missing: 0, duplicates: 0, unexpected: 0, examples: [] }, 'exact count and content, no duplicates')
  })

  t.test('a plaintext client on the broker-side kproxy is refused and counted as not_tls', async t => {
    const metricsUrl = `${info.proxies.brokerSide.adminUrl}/metrics`
    const before = metricSum(await (await fetch(metricsUrl)).text(), 'kproxy_tls_handshake_failures_total', 'reason="not_tls"')
    const r = await kcat(['-L', '-b', info.proxies.brokerSide.bootstrap, '-m', '3'])
    t.not(r.code, 0, 'kcat -L without TLS fails')
    t.notMatch(r.stdout, /broker \d+ at/, 'and learns no broker')
    const after = metricSum(await (await fetch(metricsUrl)).text(), 'kproxy_tls_handshake_failures_total', 'reason="not_tls"')
    t.ok(after > before, `kproxy_tls_handshake_failures_total{reason="not_tls"} went from ${before} to ${after}`)
    const refused = logLines(info.proxies.brokerSide.log).filter(l => l.reason === 'not_tls' && l.code === 'KPROXY_ERR_TLS_HANDSHAKE')
    t.ok(refused.length > 0, 'the broker-side kproxy logged the refusal with its reason')
  })

  t.test('the broker-side kproxy knows the client side by its certificate; neither logged an error', async t => {
    const brokerSide = logLines(info.proxies.brokerSide.log)
    const opened = brokerSide.filter(l => l.msg === 'connection open')
    t.ok(opened.length >= 4, `connections through the tunnel: ${opened.length} (bootstrap + 3 brokers at least)`)
    t.same([...new Set(opened.map(l => l.principal))], [info.proxies.principal], `every connection carries the principal ${info.proxies.principal}`)
    t.equal(info.proxies.principal, 'CN=client-proxy')
    t.same(new Set(opened.map(l => l.upstreamTls)), new Set([true]), 'and goes on to the brokers with TLS')
    const clientSide = logLines(info.proxies.clientSide.log)
    t.ok(clientSide.filter(l => l.msg === 'connection open').every(l => l.upstreamTls === true), 'the client side dials the tunnel with TLS')
    for (const [name, lines] of [['broker-side', brokerSide], ['client-side', clientSide]] as const) {
      t.same(lines.filter(l => typeof l.level === 'number' && l.level >= 50), [], `no error logs on the ${name} kproxy`)
    }
  })

  t.test('SIGTERM to the CLI stops both kproxies and the cluster and removes the directory', async t => {
    await admin.disconnect()
    t.ok(processesMentioning(dir).length >= 5, 'before: the CLI, two kproxies, three JVMs')
    const stopAt = Date.now()
    run.child.kill('SIGTERM')
    const status = await run.exited
    t.comment(`stopped ${Date.now() - stopAt} ms after SIGTERM`)
    t.same(status, { code: 0, signal: null }, `exit code 0\n${run.stderr()}`)
    t.same(processesMentioning(dir), [], 'no kproxy or JVM left')
    t.notOk(existsSync(dir), 'the directory it created is gone')
  })
})

t.test('double-proxy-tls: a SIGKILLed CLI leaves no kproxy, JVM or directory behind', async t => {
  const dir = join(scratch, 'killed')
  const watch = watchSandboxFile(dir)
  const run = await sandboxUp<DoubleProxyInfo>([...TOPOLOGY, '--brokers', '1', '--dir', dir])
  t.teardown(() => { run.child.kill('SIGKILL') })
  // The cluster is ready seconds before the proxies: the file must still appear only once, whole.
  const seen = await watch.stop()
  t.equal(seen.partial.length, 0, 'a watcher never read a partial sandbox.json')
  t.equal(seen.versions.length, 1, 'sandbox.json appeared once')
  t.equal((JSON.parse(seen.versions[0]!) as DoubleProxyInfo).clientBootstrap, run.info.clientBootstrap, 'with clientBootstrap from the first read')
  const { brokerSide, clientSide } = run.info.proxies
  const before = processesMentioning(dir).map(p => p.pid)
  t.ok(before.includes(brokerSide.pid) && before.includes(clientSide.pid), 'both kproxies run')
  const killedAt = Date.now()
  run.child.kill('SIGKILL')
  await run.exited
  const clean = await eventually(() => processesMentioning(dir).length === 0 && !existsSync(dir), 15_000)
  t.comment(`the reapers finished ${Date.now() - killedAt} ms after SIGKILL`)
  t.ok(clean, `no process and no directory within 15 s: ${JSON.stringify(processesMentioning(dir))}`)
})

t.test('usage errors (exit 2)', async t => {
  for (const args of [['--topology', 'triple'], ['--proxy-workers', '2'], [...TOPOLOGY, '--proxy-workers', '0']]) {
    const run = sandboxUp(args)
    const err = await run.then(() => null, (e: Error) => e)
    t.match(err?.message ?? '', /exited early \(2\)[\s\S]*Usage: kproxy sandbox/, `${args.join(' ')} -> exit 2 with usage`)
  }
})
