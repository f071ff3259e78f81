// Issue 8 defect "compression silently lost": librdkafka releases before confluentinc/librdkafka#4956
// (kcat here links 2.0.2) turn gzip, snappy and lz4 on only when the broker lists Produce v0, and a
// Kafka 4 broker does list v0–13 for that reason (KAFKA-18659). kproxy's ApiVersions answer used to
// narrow Produce to v3–13, so kcat logged "Broker does not support compression type gzip: not
// compressing batch" and stored plain batches. Here kcat produces with each codec through
// `kproxy serve --workers 2` in front of a real 3-node cluster, and the batches the brokers stored
// are read back from their log segments with Kafka's own DumpLogSegments: each holds the codec
// kcat was asked for, on every replica.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { hasKcat, kafkaCluster, kcat } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics } from '../helpers/e2e-records.ts'

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const
const RECORDS = 2000

t.test('kcat (librdkafka 2.0.2) compresses through kproxy: the stored batches carry each codec', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const version = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout
  t.comment(version.split('\n').find(l => l.includes('librdkafka')) ?? version)
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const kproxy = await serveKproxy(t, { upstream: cluster.bootstrap, workers: 2 })
  const admin = new Kafka({ clientId: 'setup', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const unique = Date.now()
  const topics = Object.fromEntries(CODECS.map(c => [c, `compressed-${c}-${unique}`])) as Record<typeof CODECS[number], string>
  await createDurableTopics(admin, Object.values(topics), 1)

  // The segment of partition 0 on each node that holds it (replication factor 3: all of them).
  function segments (topic: string): string[] {
    const files: string[] = []
    for (const broker of cluster.info.brokers) {
      const dir = join(cluster.dataDir, `node-${broker.id}`, 'data', `${topic}-0`)
      if (!existsSync(dir)) continue
      for (const f of readdirSync(dir)) if (f.endsWith('.log')) files.push(join(dir, f))
    }
    return files
  }

  for (const codec of CODECS) {
    t.test(codec, async t => {
      const values = Array.from({ length: RECORDS }, (_, i) => `record ${i} of ${codec}: ${'the same words compress well '.repeat(4)}`)
      // librdkafka logs "Broker does not support compression type ..." through its MSG debug
      // facility only: without -d msg the line would never show, whatever kproxy advertised
      const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', topics[codec], '-z', codec, '-X', 'acks=all', '-X', 'linger.ms=50', '-d', 'msg'],
        { input: values.join('\n') + '\n', timeoutMs: 60_000 })
      t.equal(r.code, 0, r.code === 0 ? 'kcat exits 0' : r.stderr.slice(-2000))
      t.notMatch(r.stderr, /does not support compression/, 'kcat logs no "Broker does not support compression type" line')
      const produced = [...r.stderr.matchAll(/Produce MessageSet with (\d+) message\(s\) \(\d+ bytes, ApiVersion (\d+), .*, (\w+)\)/g)]
      t.ok(produced.length > 0, 'librdkafka\'s MSG debug lines are on (so the line would show)')
      t.comment(`kcat sent ${produced.length} Produce message set(s): ${[...new Set(produced.map(m => `ApiVersion ${m[2]}, ${m[3]}`))].join('; ')}`)
      t.same([...new Set(produced.map(m => m[3]))], [codec], `librdkafka says it sent ${codec}`)

      const files = segments(topics[codec])
      t.equal(files.length, 3, `the partition's segment on each of the 3 replicas: ${files.join(', ')}`)
      for (const file of files) {
        const dump = await cluster.runKafkaTool('org.apache.kafka.tools.DumpLogSegments', ['--files', file], { timeoutMs: 60_000 })
        t.equal(dump.code, 0, dump.stderr)
        const batches = [...dump.stdout.matchAll(/^baseOffset: \d+ lastOffset: \d+ count: (\d+) .*compresscodec: (\w+)/gm)]
          .map(m => ({ count: Number(m[1]), codec: m[2]!.toLowerCase() }))
        const stored = batches.reduce((n, b) => n + b.count, 0)
        const codecs = [...new Set(batches.map(b => b.codec))]
        t.comment(`${file.slice(cluster.dataDir.length + 1)}: ${batches.length} batches, ${stored} records, codec ${codecs.join(', ')}`)
        t.equal(stored, RECORDS, 'every record is in the segment')
        t.same(codecs, [codec], `every stored batch is ${codec}`)
      }
    })
  }
})
