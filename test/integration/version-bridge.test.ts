// Issue 11 acceptance: old clients against a real Kafka 4.3.1 through `kproxy serve --workers 2
// --version-bridge`, each also pointed straight at the broker to show what the bridge does.
//  - Java kafka-clients 0.10.2.2 (Produce v2, Fetch v3, both dropped by Kafka 4): producer and a
//    consumer group with committed offsets; records cross versions exactly both ways (0.10.2.2
//    uncompressed and gzip -> the 4.x Java consumer and kcat; the 4.x producer's lz4, zstd and
//    uncompressed -> the 0.10.2.2 consumer).
//  - Java kafka-clients 0.11.0.3: it speaks Produce v3 and Fetch v5, which Kafka 4.3.1 still
//    accepts, so it works straight at the broker too; the report says it needs no bridge.
//  - kcat (librdkafka 2.0.2) with api.version.request=false: broker.version.fallback=0.9.0.1
//    (Produce v1, Fetch v1, ListOffsets v0; every codec) fails at the broker and works through
//    kproxy; with 0.10.0.0 librdkafka sends ApiVersions anyway and uses current versions.
//  - GET /clients lists every one of them with the right "needs the bridge" mark;
//    kproxy_bridged_requests_total counts the conversions.
import t from 'tap'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { expectedRecord, oldJavaClient } from '../helpers/old-java-client.ts'
import type { JavaRun, OldJavaClient } from '../helpers/old-java-client.ts'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const KPROXY = fileURLToPath(new URL('../../packages/cli/bin/kproxy', import.meta.url))

function runKproxy (args: readonly string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(KPROXY, args, { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }))
  })
}

const N = 500
// create times of the records written: recent, or the broker's 7-day retention deletes them at once
const TS = Date.now() - 3_600_000

interface Got { offset: number, key: string | null, value: string, timestamp: number }

// the end of a Java client's stderr without slf4j's "no logger" notice
function javaErr (run: JavaRun): string {
  return run.stderr.split('\n').filter(l => !l.startsWith('SLF4J')).join('\n').slice(-500)
}

function records (run: JavaRun): Got[] {
  return run.lines.filter(l => 'value' in l).map(l => ({ offset: l.offset, key: l.key, value: l.value, timestamp: l.timestamp }))
}

function expected (prefix: string, n: number, withTimestamps = true): Got[] {
  return Array.from({ length: n }, (_, i) => {
    const e = expectedRecord(prefix, i, TS)
    return { offset: i, key: e.key, value: e.value, timestamp: withTimestamps ? e.timestamp : -1 }
  })
}

// kcat -J: one JSON envelope per record (key null when absent, ts in ms)
async function kcatRead (bootstrap: string, topic: string, extra: string[] = []): Promise<Got[]> {
  const r = await kcat(['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-J', ...extra], { timeoutMs: 60_000 })
  if (r.code !== 0) throw new Error(`kcat -C ${topic}: ${r.stderr}`)
  return r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => {
    const j = JSON.parse(l) as { offset: number, key: string | null, payload: string, ts: number }
    return { offset: j.offset, key: j.key, value: j.payload, timestamp: j.ts }
  })
}

t.test('old clients against Kafka 4 through the version bridge', { skip: hasKcat() ? false : 'kcat not installed', timeout: 900_000 }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 1 })
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2, args: ['--version-bridge'] })
  const [v0102, v0110, v4] = await Promise.all(['0.10.2.2', '0.11.0.3', KAFKA_VERSION].map(v => oldJavaClient(t, v))) as [OldJavaClient, OldJavaClient, OldJavaClient]
  const unique = Date.now()
  const topic = (name: string): string => `bridge-${name}-${unique}`

  t.test('Java 0.10.2.2 fails straight at Kafka 4', async t => {
    const p = await v0102.run(['produce', cluster.bootstrap, topic('direct-0102'), 'none', '5', 'd', String(TS)], { clientId: 'direct-0102-producer', timeoutMs: 60_000 })
    t.not(p.code, 0, 'the producer fails')
    t.ok(p.lines.some(l => typeof l.error === 'string'), `the producer's error: ${JSON.stringify(p.lines.at(-1))}`)
    const c = await v0102.run(['consume', cluster.bootstrap, topic('direct-0102'), 'g-direct-0102', '1', '10000'], { clientId: 'direct-0102-consumer', timeoutMs: 60_000 })
    t.not(c.code, 0)
    t.equal(c.lines.at(-1)?.done, 0, 'the consumer gets nothing (Kafka 4 has no Fetch version it knows)')
  })

  t.test('Java 0.10.2.2 producer and consumer group through kproxy; records exact; committed offsets', async t => {
    for (const compression of ['none', 'gzip']) {
      const name = topic(`0102-${compression}`)
      const p = await v0102.run(['produce', kproxy.bootstrap, name, compression, String(N), compression, String(TS)], { clientId: `java-0.10.2.2-producer-${compression}` })
      t.equal(p.code, 0, `produce ${compression}: ${JSON.stringify(p.lines.at(-1))}`)
      t.same(p.lines.filter(l => 'i' in l).map(l => l.offset), Array.from({ length: N }, (_, i) => i), 'acknowledged at offsets 0..N-1')
      const group = `g-0102-${compression}-${unique}`
      const c = await v0102.run(['consume', kproxy.bootstrap, name, group, String(N), '60000'], { clientId: 'java-0.10.2.2-consumer' })
      t.equal(c.code, 0, `consume ${compression} ${javaErr(c)}`)
      t.same(records(c), expected(compression, N), `${compression}: keys, values, timestamps and order as written`)
      t.same(c.lines.at(-1)?.committed, { 0: N }, 'offsets committed')
      const again = await v0102.run(['consume', kproxy.bootstrap, name, group, '1', '8000'], { clientId: 'java-0.10.2.2-consumer' })
      t.equal(again.lines.at(-1)?.done, 0, 'the group resumes from its committed offset: nothing again')
    }
  })

  t.test('records written by 0.10.2.2 read by the 4.x Java consumer and by kcat', async t => {
    for (const compression of ['none', 'gzip']) {
      const name = topic(`0102-${compression}`)
      const c = await v4.run(['consume', kproxy.bootstrap, name, `g-v4-${compression}-${unique}`, String(N), '60000'], { clientId: `java-${KAFKA_VERSION}-consumer` })
      t.equal(c.code, 0)
      t.same(records(c), expected(compression, N), `4.x consumer, ${compression}`)
      t.same(await kcatRead(kproxy.bootstrap, name), expected(compression, N), `kcat, ${compression}`)
    }
  })

  t.test('records written by the 4.x producer (lz4, zstd, none) read by the 0.10.2.2 consumer', async t => {
    for (const compression of ['lz4', 'zstd', 'none']) {
      const name = topic(`v4-${compression}`)
      const p = await v4.run(['produce', kproxy.bootstrap, name, compression, String(N), `v4${compression}`, String(TS)], { clientId: `java-${KAFKA_VERSION}-producer` })
      t.equal(p.code, 0, JSON.stringify(p.lines.at(-1)))
      const c = await v0102.run(['consume', kproxy.bootstrap, name, `g-0102-read-${compression}-${unique}`, String(N), '60000'], { clientId: 'java-0.10.2.2-consumer' })
      t.equal(c.code, 0, `consume ${compression} ${javaErr(c)}`)
      t.same(records(c), expected(`v4${compression}`, N), `0.10.2.2 consumer reads the 4.x producer's ${compression} records exactly`)
    }
  })

  t.test('Java 0.11.0.3 through kproxy (and, as it speaks Produce v3 / Fetch v5, straight at Kafka 4 too)', async t => {
    for (const [where, bootstrap] of [['kproxy', kproxy.bootstrap], ['direct', cluster.bootstrap]] as const) {
      const name = topic(`0110-${where}`)
      const p = await v0110.run(['produce', bootstrap, name, 'gzip', String(N), '0110', String(TS)], { clientId: `java-0.11.0.3-producer-${where}` })
      t.equal(p.code, 0, `${where}: ${JSON.stringify(p.lines.at(-1))}`)
      const c = await v0110.run(['consume', bootstrap, name, `g-0110-${where}-${unique}`, String(N), '60000'], { clientId: `java-0.11.0.3-consumer-${where}` })
      t.equal(c.code, 0)
      t.same(records(c), expected('0110', N), `${where}: exact`)
      t.same(c.lines.at(-1)?.committed, { 0: N })
    }
  })

  t.test('kcat, api.version.request=false, broker.version.fallback=0.9.0.1: fails at the broker, works through kproxy', async t => {
    const old = ['-X', 'api.version.request=false', '-X', 'broker.version.fallback=0.9.0.1']
    const direct = await kcat(['-P', '-b', cluster.bootstrap, '-t', topic('kcat-direct'), '-X', 'message.timeout.ms=5000', ...old], { input: 'x\n' })
    t.not(direct.code, 0, 'Kafka 4 drops the connection on Produce v1')
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
      const name = topic(`kcat09-${codec}`)
      const lines = Array.from({ length: 50 }, (_, i) => `key${i}:value-${codec}-${i}`)
      const p = await kcat(['-P', '-b', kproxy.bootstrap, '-t', name, '-K:', '-z', codec, '-X', 'client.id=kcat-0.9.0.1', ...old], { input: lines.join('\n') + '\n' })
      t.equal(p.code, 0, `${codec}: ${p.stderr}`)
      const got = await kcatRead(kproxy.bootstrap, name, ['-X', 'client.id=kcat-0.9.0.1', ...old])
      t.same(got.map(r => [r.offset, r.key, r.value]), lines.map((l, i) => [i, ...l.split(':')]), `${codec}: read back through the bridge (Fetch v1, ListOffsets v0)`)
      // with current versions (kcat's defaults): the same records
      t.same((await kcatRead(kproxy.bootstrap, name)).map(r => r.value), lines.map(l => l.split(':')[1]))
    }
    // a consumer group with committed offsets, then the group again: nothing new
    const name = topic('kcat09-gzip')
    const group = `g-kcat09-${unique}`
    const g = await kcat(['-b', kproxy.bootstrap, '-G', group, name, '-e', '-q', '-f', '%s\n', '-X', 'auto.offset.reset=earliest', '-X', 'client.id=kcat-0.9.0.1', ...old], { timeoutMs: 60_000 })
    t.equal(g.stdout.trim().split('\n').length, 50, 'the group reads every record')
    const again = await kcat(['-b', kproxy.bootstrap, '-G', group, name, '-e', '-q', '-f', '%s\n', '-X', 'auto.offset.reset=earliest', '-X', 'client.id=kcat-0.9.0.1', ...old], { timeoutMs: 60_000 })
    t.equal(again.stdout.trim(), '', 'its committed offsets hold')
  })

  t.test('kcat, api.version.request=false, broker.version.fallback=0.10.0.0, through kproxy', async t => {
    const old = ['-X', 'api.version.request=false', '-X', 'broker.version.fallback=0.10.0.0', '-X', 'client.id=kcat-0.10.0.0']
    const name = topic('kcat010')
    const lines = Array.from({ length: 50 }, (_, i) => `key${i}:value-${i}`)
    const p = await kcat(['-P', '-b', kproxy.bootstrap, '-t', name, '-K:', '-z', 'gzip', ...old], { input: lines.join('\n') + '\n' })
    t.equal(p.code, 0, p.stderr)
    const got = await kcatRead(kproxy.bootstrap, name, old)
    t.same(got.map(r => [r.offset, r.key, r.value]), lines.map((l, i) => [i, ...l.split(':')]))
  })

  t.test('GET /clients: who needs the bridge, and for which versions', async t => {
    const res = await fetch(`${kproxy.adminUrl}/clients`)
    t.equal(res.status, 200)
    const report = await res.json() as any
    t.equal(report.bridgeEnabled, true)
    t.equal(report.upstream.known, true)
    const client = (id: string): any => {
      const found = report.clients.filter((c: any) => c.clientId === id)
      if (found.length === 0) t.fail(`${id} is not listed: ${report.clients.map((c: any) => c.clientId).join(', ')}`)
      return found[0] ?? { needs: [], versions: [] }
    }
    const needs = (c: any): string[] => c.needs.map((n: any) => `${n.api} v${n.version}${n.bridged ? ` -> v${n.bridgedTo}` : ' (not bridged)'}`).sort()
    const producer0102 = client('java-0.10.2.2-producer-gzip')
    t.equal(producer0102.needsBridge, true)
    t.same(needs(producer0102), ['Produce v2 -> v3'])
    t.equal(producer0102.kafka4.ready, false)
    const consumer0102 = client('java-0.10.2.2-consumer')
    t.equal(consumer0102.needsBridge, true)
    t.same(needs(consumer0102), ['Fetch v3 -> v4'])
    t.ok(consumer0102.connections.total >= 3)
    for (const id of ['java-0.11.0.3-producer-kproxy', 'java-0.11.0.3-consumer-kproxy']) {
      t.equal(client(id).needsBridge, false, `${id} needs no bridge`)
      t.equal(client(id).kafka4.ready, true)
    }
    const kcat09 = client('kcat-0.9.0.1')
    t.equal(kcat09.needsBridge, true)
    t.same(needs(kcat09), ['Fetch v1 -> v4', 'ListOffsets v0 -> v1', 'Produce v1 -> v3'])
    t.equal(kcat09.software.name, null, 'it never sent ApiVersions')
    const kcat010 = client('kcat-0.10.0.0')
    t.equal(kcat010.needsBridge, false, 'librdkafka asked ApiVersions anyway and used current versions')
    t.equal(kcat010.software.name, 'librdkafka')
    const current = client(`java-${KAFKA_VERSION}-producer`)
    t.equal(current.needsBridge, false, 'a current client needs no bridge')
    t.same(current.software, { name: 'apache-kafka-java', version: KAFKA_VERSION })
    t.comment(`report summary: ${JSON.stringify(report.summary)}`)
    // kproxy clients, the CLI over the same endpoint
    const cli = await runKproxy(['clients', '--admin', kproxy.adminUrl.replace('http://', '')])
    t.equal(cli.code, 0, cli.stderr)
    t.comment(`kproxy clients:\n${cli.stdout}`)
    const line = (id: string): string => cli.stdout.split('\n').find(l => l.startsWith(`${id} `)) ?? ''
    t.match(line('java-0.10.2.2-consumer'), /NEEDS BRIDGE\s+NOT READY\s+Fetch v3 \(accepts 4-18; bridged to v4\)/)
    t.match(line(`java-${KAFKA_VERSION}-producer`), new RegExp(`apache-kafka-java ${KAFKA_VERSION.replace(/\./g, '\\.')}\\s.*\\sok\\s+ready`))
    t.match(cli.stdout, /The version bridge is on\./)
    const metrics = await kproxy.metrics()
    for (const [api, from, to] of [['produce', 2, 3], ['fetch', 3, 4], ['produce', 1, 3], ['fetch', 1, 4], ['list_offsets', 0, 1]] as const) {
      t.ok(metricSum(metrics, 'kproxy_bridged_requests_total', `api="${api}",from_version="${from}",to_version="${to}"`) > 0, `kproxy_bridged_requests_total ${api} ${from}->${to}`)
    }
  })

  t.test('throughput: the 0.10.2.2 producer through the bridge next to the 4.x producer', async t => {
    const count = 100_000
    const rates: string[] = []
    for (const client of [v0102, v4]) {
      const p = await client.run(['produce', kproxy.bootstrap, topic(`rate-${client.version}`), 'none', String(count), 'r', String(TS)], { clientId: `rate-${client.version}` })
      t.equal(p.code, 0)
      const ms = p.lines.at(-1)!.ms as number
      rates.push(`${client.version}: ${Math.round(count / (ms / 1000))} records/s (${count} records of ~60 bytes, acks=all, in ${ms} ms)`)
    }
    t.comment(`producers through kproxy --version-bridge: ${rates.join('; ')}`)
  })
})
