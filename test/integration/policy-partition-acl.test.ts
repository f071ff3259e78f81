// Issue 9's partition ACL acceptance through `kproxy serve --workers 2` in front of a real 3-node
// cluster, principals from mTLS client certificates (kproxy certs: CN=alice, CN=bob):
// alice may Write partitions 0-3 of an 8-partition topic and Read all of it; bob may Read only
// partitions 4-7.
// - Kafka's Java producer (Produce v13, topic ids), kafkajs and kcat as alice: records to 0-3
//   are stored, records to 4-7 are refused per partition with TOPIC_AUTHORIZATION_FAILED (29)
//   while the rest of the same request succeeds;
// - alice's consumers (kcat and the Java consumer, all 8 partitions) read every stored record,
//   partition by partition as GetOffsetShell counts them, and kcat's read is checked record by
//   record against what was written;
// - bob's consumers (the Java consumer assigned all 8 partitions, a kafkajs group consumer given
//   all 8, kcat on each partition) receive only 4-7 and get 29 for 0-3;
// - every count checked against the log with Kafka's GetOffsetShell, straight at the brokers;
// - the denials are in /metrics (kproxy_acl_denials_total).
import t from 'tap'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdtemp } from 'node:fs/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { ensureKafkaJars } from '@kproxy/cli/sandbox/jars'
import { hasKcat, kafkaCluster, kcat, TEST_JVM_ARGS } from '../helpers/kafka.ts'
import { metricSum, serveKproxy } from '../helpers/serve-kproxy.ts'
import { createDurableTopics } from '../helpers/e2e-records.ts'
import { certPair, kproxyCerts } from '../helpers/kproxy-certs.ts'
import { mtlsBrokerModeLines } from '../helpers/mtls-config.ts'

const SOURCE = fileURLToPath(new URL('../fixtures/AclPartitionClient.java', import.meta.url))
const TOPIC = 'orders'
const PARTITIONS = 8

function exec (command: string, args: readonly string[], timeoutMs = 120_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

// kcat -f '%p\t%o\t%s\n': the records of each partition, in offset order
function byPartition (stdout: string): Array<Array<{ offset: number, value: string }>> {
  const out = Array.from({ length: PARTITIONS }, () => [] as Array<{ offset: number, value: string }>)
  for (const line of stdout.split('\n')) {
    const m = /^(\d+)\t(\d+)\t(.*)$/.exec(line)
    if (m !== null) out[Number(m[1])]!.push({ offset: Number(m[2]), value: m[3]! })
  }
  return out
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
// a kafkajs error's type, from the error it wraps if it wraps one (retries exceeded)
const errorType = (e: any): string => e?.cause != null ? errorType(e.cause) : String(e?.type ?? e?.message ?? e)

const jsonLines = (stdout: string): Array<Record<string, any>> => stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, any>)

t.test('partition ACLs: alice writes 0-3 and reads all, bob reads 4-7', { skip: hasKcat() ? false : 'kcat is not installed (apt-get install -y kcat)' }, async t => {
  const dir = t.testdir()
  const ca = join(dir, 'ca')
  const certs = join(dir, 'certs')
  await kproxyCerts('init', '--dir', ca, '--cn', 'kproxy test mesh CA', '--days', '2')
  await kproxyCerts('issue', '--ca', ca, '--name', 'kproxy', '--server', '--san', 'IP:127.0.0.1,DNS:localhost', '--days', '2', '--out', certs)
  await kproxyCerts('issue', '--ca', ca, '--name', 'alice,bob', '--client', '--days', '2', '--out', certs)
  const caFile = join(certs, 'ca.crt')
  const pem = (name: string): { crt: string, key: string } => certPair(certs, name)
  const kcatTls = (name: string): string[] => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${caFile}`, '-X', `ssl.certificate.location=${pem(name).crt}`, '-X', `ssl.key.location=${pem(name).key}`]
  // Kafka's PEM keystore is one file: the PKCS#8 key, then the certificate chain.
  const javaProps = (name: string): string => {
    const keystore = join(certs, `${name}-keystore.pem`)
    writeFileSync(keystore, readFileSync(pem(name).key, 'utf8') + readFileSync(pem(name).crt, 'utf8'), { mode: 0o600 })
    const file = join(dir, `${name}.properties`)
    writeFileSync(file, [
      `bootstrap.servers=${kproxy.bootstrap}`,
      `client.id=java-${name}`,
      'security.protocol=SSL',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${keystore}`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${caFile}`,
      ''
    ].join('\n'))
    return file
  }

  writeFileSync(join(dir, 'acl.yaml'), [
    'rules:',
    '  - name: alice writes the first half',
    '    allow: [Write]',
    '    principal: User:alice',
    `    topic: ${TOPIC}`,
    '    partitions: [0-3]',
    '  - allow: [Read]',
    '    principal: User:alice',
    `    topic: ${TOPIC}`,
    '  - name: bob reads the second half',
    '    allow: [Read]',
    '    principal: User:bob',
    `    topic: ${TOPIC}`,
    '    partitions: [4-7]',
    '  - name: bob\'s kafkajs consumer group',
    '    allow: [Read, Describe]',
    '    principal: User:bob',
    '    group: acl-bob-kafkajs',
    '  - allow: [Describe]',
    '    principal: "*"',
    `    topic: ${TOPIC}`,
    ''
  ].join('\n'))
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, [
    ...mtlsBrokerModeLines(pem('kproxy'), caFile),
    'policy:',
    '  acl:',
    '    defaultDecision: deny',
    '    rulesFile: acl.yaml',
    ''
  ].join('\n'))

  const cluster = await kafkaCluster(t, { brokers: 3 })
  const direct = new Kafka({ clientId: 'acl-setup', brokers: cluster.info.bootstrap.split(','), logLevel: logLevel.NOTHING })
  const admin = direct.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  await createDurableTopics(admin, [TOPIC], PARTITIONS)
  const kproxy = await serveKproxy(t, { upstream: cluster.info.bootstrap, workers: 2, args: ['--config', config] })

  // bob has something to read in 4-7: written straight to the brokers
  const seeded = 30
  for (let p = 4; p < 8; p++) {
    const r = await kcat(['-P', '-b', cluster.info.bootstrap, '-t', TOPIC, '-p', String(p), '-X', 'topic.acks=all'], { input: Array.from({ length: seeded }, (_, i) => `seed-${p}-${i}`).join('\n') + '\n' })
    t.equal(r.code, 0, r.stderr)
  }

  const jars = await ensureKafkaJars()
  const classes = await mkdtemp(join(tmpdir(), 'kproxy-acl-client-'))
  const compiled = await exec('javac', ['-nowarn', '-d', classes, '-cp', jars.classpath, SOURCE])
  t.equal(compiled.code, 0, compiled.stderr)
  const java = (args: string[]): ReturnType<typeof exec> => exec('java', [...TEST_JVM_ARGS, '-cp', `${classes}:${jars.classpath}`, 'AclPartitionClient', ...args], 180_000)

  // what alice wrote and must find stored, partition by partition in write order (0-3), and the
  // records kcat's spread producer got acknowledged (partition chosen by kcat, read back below)
  const written = Array.from({ length: PARTITIONS }, () => [] as string[])
  const spread = { total: 400, acknowledged: 0 }
  // where kafkajs's Produce answers put its records in 0-3 (base offsets)
  const kafkajsBase = new Array<number>(PARTITIONS).fill(-1)
  // end offsets at the brokers (GetOffsetShell), filled in below
  const offsets = new Array<number>(PARTITIONS).fill(-1)

  t.test('Java producer: one request per broker carries allowed and denied partitions', async t => {
    const per = 50
    const r = await java(['produce', javaProps('alice'), TOPIC, String(PARTITIONS), String(per)])
    t.equal(r.code, 0, r.stdout + r.stderr)
    const lines = jsonLines(r.stdout)
    for (const l of lines) {
      if (l.partition < 4) {
        t.same([l.ok, l.failed], [per, 0], `partition ${l.partition}: every record acknowledged`)
        written[l.partition]!.push(...range(0, per).map(i => `java-${l.partition}-${i}`))
      } else {
        t.same([l.ok, l.failed, l.error], [0, per, 'org.apache.kafka.common.errors.TopicAuthorizationException'], `partition ${l.partition}: every record refused with 29`)
      }
    }
    t.equal(lines.length, PARTITIONS)
  })

  const kafkajsTls = (name: string): { ca: string[], cert: string, key: string } => ({ ca: [readFileSync(caFile, 'utf8')], cert: readFileSync(pem(name).crt, 'utf8'), key: readFileSync(pem(name).key, 'utf8') })

  t.test('kafkajs: one send() over all partitions; per partition, 0-3 stored and 4-7 refused with TOPIC_AUTHORIZATION_FAILED', async t => {
    // kafkajs throws the first partition error of a Produce answer and drops the rest, so the
    // answers are read from its debug log: parsed when they carry no error, the raw bytes (with
    // KAFKAJS_DEBUG_PROTOCOL_BUFFERS=1, read when a connection is made) decoded by kafkajs's own
    // decoder when they do
    const produceDecoder = (version: string): { decode (b: Buffer): Promise<any> } => createRequire(import.meta.url)(`kafkajs/src/protocol/requests/produce/v${version}/response.js`)
    const answers: Array<Promise<Array<{ partition: number, errorCode: number, baseOffset: string }>>> = []
    const saved = process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS
    process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS = '1'
    t.teardown(() => { if (saved === undefined) delete process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS; else process.env.KAFKAJS_DEBUG_PROTOCOL_BUFFERS = saved })
    const kafka = new Kafka({
      clientId: 'kafkajs-alice',
      brokers: [kproxy.bootstrap],
      ssl: kafkajsTls('alice'),
      logLevel: logLevel.DEBUG,
      logCreator: () => ({ log }) => {
        const m = /^Response Produce\(key: 0, version: (\d+)\)$/.exec(log.message)
        if (m === null) return
        // (the same message at error level names the error only)
        if (log.data === undefined && !Buffer.isBuffer(log.payload)) return
        const body: Promise<any> = log.data !== undefined ? Promise.resolve(log.data) : produceDecoder(m[1]!).decode(log.payload)
        answers.push(body.then(b => b.topics.flatMap((topic: any) => topic.topicName === TOPIC ? topic.partitions : [])))
      },
      retry: { retries: 0 }
    })
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const per = 20
    const messages = Array.from({ length: PARTITIONS * per }, (_, i) => ({ partition: i % PARTITIONS, value: `kafkajs-${i}` }))
    const err = await producer.send({ topic: TOPIC, acks: -1, messages }).then(() => null, (e: any) => e)
    t.ok(err !== null, 'the send fails')
    t.match(errorType(err), /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/, `with TOPIC_AUTHORIZATION_FAILED (${String(err?.message)})`)
    // send() fails with the first answer that carries an error; the other brokers' answers follow
    const deadline = Date.now() + 10_000
    const answered = async (): Promise<Array<{ partition: number, errorCode: number, baseOffset: string }>> => (await Promise.all(answers)).flat()
    while ((await answered()).length < PARTITIONS && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const requests = await Promise.all(answers)
    const slots = requests.flat().sort((a, b) => a.partition - b.partition)
    t.same(slots.map(s => [s.partition, s.errorCode]), range(0, PARTITIONS).map(p => [p, p < 4 ? 0 : 29]), `every partition answered once: 0-3 with 0, 4-7 with 29 (${requests.length} Produce requests)`)
    t.ok(requests.some(r => r.some(s => s.errorCode === 0) && r.some(s => s.errorCode === 29)), 'a request with both allowed and refused partitions is answered per partition')
    for (const s of slots) if (s.errorCode === 0) kafkajsBase[s.partition] = Number(s.baseOffset)
    // what the refusal left stored is checked below, record by record, as alice reads it back
    for (let p = 0; p < 4; p++) written[p]!.push(...range(0, per).map(i => `kafkajs-${i * PARTITIONS + p}`))
  })

  t.test('kcat: per partition, and one producer spreading over all partitions', async t => {
    const per = 10
    for (let p = 0; p < PARTITIONS; p++) {
      const r = await kcat(['-P', '-b', kproxy.bootstrap, '-t', TOPIC, '-p', String(p), '-X', 'topic.acks=all', ...kcatTls('alice')], { input: Array.from({ length: per }, (_, i) => `kcat-${p}-${i}`).join('\n') + '\n' })
      if (p < 4) {
        t.equal(r.code, 0, `partition ${p}: ${r.stderr}`)
        written[p]!.push(...range(0, per).map(i => `kcat-${p}-${i}`))
      } else {
        t.not(r.code, 0, `partition ${p} refused`)
        t.match(r.stderr, /Topic authorization failed/i, `partition ${p}: ${r.stderr.split('\n')[0]}`)
      }
    }
    const total = spread.total
    const spreading = await kcat(['-P', '-b', kproxy.bootstrap, '-t', TOPIC, '-X', 'topic.partitioner=random', '-X', 'sticky.partitioning.linger.ms=0', '-X', 'topic.acks=all', '-X', 'linger.ms=50', ...kcatTls('alice')], { input: Array.from({ length: total }, (_, i) => `spread-${i}`).join('\n') + '\n' })
    const failed = (spreading.stderr.match(/Delivery failed for message: Broker: Topic authorization failed/gi) ?? []).length
    t.ok(failed > 0 && failed < total, `some records refused (${failed} of ${total}), the rest of the same requests stored`)
    t.notMatch(spreading.stderr.replace(/.*Delivery failed for message: Broker: Topic authorization failed.*\n?/gi, ''), /Delivery failed/, 'no other delivery failure')
    // which partitions got them: alice's read-back says (checked below against the total)
    spread.acknowledged = total - failed
  })

  t.test('the log has exactly what was acknowledged (GetOffsetShell at the brokers)', async t => {
    const r = await cluster.runKafkaTool('org.apache.kafka.tools.GetOffsetShell', ['--bootstrap-server', cluster.info.bootstrap, '--topic', TOPIC])
    t.equal(r.code, 0, r.stderr)
    for (const line of r.stdout.split('\n')) {
      const m = /^orders:(\d+):(\d+)$/.exec(line.trim())
      if (m !== null) offsets[Number(m[1])] = Number(m[2])
    }
    t.equal(sum(offsets.slice(0, 4)), sum(written.slice(0, 4).map(w => w.length)) + spread.acknowledged, `partitions 0-3 hold what was acknowledged (${offsets.slice(0, 4).join(', ')}); per partition as alice reads them back`)
    t.same(offsets.slice(4), [seeded, seeded, seeded, seeded], 'partitions 4-7 hold only the records written straight to the brokers')
  })

  t.test('alice\'s kcat on all 8 partitions reads every stored record: what was written, as GetOffsetShell counts it', async t => {
    const r = await kcat(['-C', '-b', kproxy.bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-f', '%p\t%o\t%s\n', ...kcatTls('alice')], { timeoutMs: 60_000 })
    t.equal(r.code, 0, r.stderr)
    t.notMatch(r.stderr, /error|failed/i, 'no error')
    const read = byPartition(r.stdout)
    t.same(read.map(rs => rs.length), offsets, `per partition, every record up to the end offset (${read.map(rs => rs.length).join(', ')})`)
    const spreadRead: string[] = []
    for (let p = 0; p < PARTITIONS; p++) {
      const values = read[p]!.map(rec => rec.value)
      if (p < 4) {
        t.same(values.filter(v => !v.startsWith('spread-')), written[p], `partition ${p}: the Java, kafkajs and kcat records, in order`)
        const kafkajs = read[p]!.filter(rec => rec.value.startsWith('kafkajs-'))
        t.same([kafkajs.length, kafkajs[0]?.offset], [20, kafkajsBase[p]], `partition ${p}: kafkajs's 20 records, where its answer put them`)
        spreadRead.push(...values.filter(v => v.startsWith('spread-')))
      } else {
        t.same(values, range(0, seeded).map(i => `seed-${p}-${i}`), `partition ${p}: only the records written straight to the brokers`)
      }
    }
    t.equal(new Set(spreadRead).size, spread.acknowledged, `kcat's spread: the ${spread.acknowledged} acknowledged records, each once, all in 0-3`)
    t.equal(spreadRead.length, spread.acknowledged)
  })

  t.test('alice\'s Java consumer assigned to all 8 partitions reads every stored record', async t => {
    const r = await java(['consume', javaProps('alice'), TOPIC, String(PARTITIONS), String(sum(offsets)), '60000', 'expected'])
    t.equal(r.code, 0, r.stdout + r.stderr)
    const lines = jsonLines(r.stdout)
    t.same(lines.filter(l => l.partition !== undefined).map(l => l.records), offsets, 'per partition, as many as GetOffsetShell counts')
    t.same(lines.find(l => l.authorizationErrors !== undefined), { authorizationErrors: 0, topics: [] }, 'no TopicAuthorizationException')
  })

  t.test('bob\'s Java consumer assigned to all 8 partitions reads only 4-7 and gets 29 for 0-3', async t => {
    const r = await java(['consume', javaProps('bob'), TOPIC, String(PARTITIONS), String(4 * seeded), '60000'])
    t.equal(r.code, 0, r.stdout + r.stderr)
    const lines = jsonLines(r.stdout)
    const records = lines.filter(l => l.partition !== undefined).map(l => l.records)
    t.same(records, [0, 0, 0, 0, seeded, seeded, seeded, seeded], 'records only from 4-7, all of them')
    const summary = lines.find(l => l.authorizationErrors !== undefined)!
    t.ok(summary.authorizationErrors > 0, `TopicAuthorizationException from poll (${summary.authorizationErrors} times)`)
    t.same(summary.topics, [TOPIC])
  })

  t.test('bob\'s kafkajs consumer, given all 8 partitions by its group: 4-7 delivered, 0-3 refused with TOPIC_AUTHORIZATION_FAILED', async t => {
    // retries as kafkajs's defaults: the group's coordinator is being made (its first group); an
    // authorization error is never retried
    const kafka = new Kafka({ clientId: 'kafkajs-bob', brokers: [kproxy.bootstrap], ssl: kafkajsTls('bob'), logLevel: logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: 'acl-bob-kafkajs', maxWaitTimeInMs: 500, retry: { retries: 8, restartOnFailure: async () => false } })
    await consumer.connect()
    t.teardown(() => consumer.disconnect())
    const got = Array.from({ length: PARTITIONS }, () => [] as string[])
    let assigned: number[] = []
    consumer.on(consumer.events.GROUP_JOIN, e => {
      assigned = [...(e.payload.memberAssignment[TOPIC] ?? [])].sort((a, b) => a - b)
      // kafkajs drops a whole Fetch answer when any partition in it has an error (it throws the
      // first one), so 4-7 would come only from a broker leading none of 0-3: 0-3 wait, paused,
      // until 4-7 are read
      consumer.pause([{ topic: TOPIC, partitions: [0, 1, 2, 3] }])
    })
    const crashed = new Promise<unknown>(resolve => consumer.on(consumer.events.CRASH, e => { resolve(e.payload.error) }))
    let allRead = (): void => {}
    const readAll = new Promise<void>(resolve => { allRead = resolve })
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got[partition]!.push(String(message.value))
        if (sum(got.map(g => g.length)) >= 4 * seeded) allRead()
      }
    })
    const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> => Promise.race([p, new Promise<'timeout'>(resolve => setTimeout(resolve, ms, 'timeout'))])
    const first = await within(Promise.race([readAll.then(() => 'read' as const), crashed]), 60_000)
    t.equal(first, 'read', `4-7 read (${first === 'read' ? 'before any error' : String((first as any)?.stack ?? first)})`)
    t.same(assigned, range(0, PARTITIONS), 'the group gives it all 8 partitions')
    t.same(got.map(g => g.length), [0, 0, 0, 0, seeded, seeded, seeded, seeded], 'records from 4-7, all of them')
    for (let p = 4; p < PARTITIONS; p++) t.same(got[p], range(0, seeded).map(i => `seed-${p}-${i}`), `partition ${p}: its records in order`)
    if (first !== 'read') return // the consumer is gone
    consumer.resume([{ topic: TOPIC, partitions: [0, 1, 2, 3] }])
    const err = await within(crashed, 30_000)
    t.match(errorType(err), /TOPIC_AUTHORIZATION_FAILED/, `fetching 0-3 fails with TOPIC_AUTHORIZATION_FAILED (${String((err as any)?.message ?? err)})`)
    t.same(got.map(g => g.length), [0, 0, 0, 0, seeded, seeded, seeded, seeded], 'still no record from 0-3')
  })

  t.test('bob with kcat, partition by partition: 4-7 read to their end, each of 0-3 refused', async t => {
    // one kcat per partition: kcat ends at the first partition error (KC_FATAL), so a kcat on all
    // 8 would stop at whichever of 0-3 answers first
    for (let p = 0; p < PARTITIONS; p++) {
      const r = await kcat(['-C', '-b', kproxy.bootstrap, '-t', TOPIC, '-p', String(p), '-o', 'beginning', '-e', '-f', '%p\t%o\t%s\n', ...kcatTls('bob')])
      const values = byPartition(r.stdout).flat().map(rec => rec.value)
      if (p < 4) {
        t.not(r.code, 0, `partition ${p}: kcat fails`)
        t.match(r.stderr, new RegExp(`Topic orders \\[${p}\\] error: .*Broker: Topic authorization failed`), `partition ${p}: refused (${r.stderr.trim().split('\n')[0]})`)
        t.notMatch(r.stderr, /PROTOERR|parse failure/i, `partition ${p}: the refusal is a well-formed Fetch answer`)
        t.same(values, [], `partition ${p}: no record`)
      } else {
        t.equal(r.code, 0, `partition ${p}: ${r.stderr}`)
        t.same(values, range(0, seeded).map(i => `seed-${p}-${i}`), `partition ${p}: all its records`)
      }
    }
  })

  t.test('the denials are counted by principal, operation and resource type', async t => {
    const metrics = await kproxy.metrics()
    t.ok(metricSum(metrics, 'kproxy_acl_denials_total', 'principal="User:alice",operation="Write",resource_type="topic"') > 0, 'alice Write')
    t.ok(metricSum(metrics, 'kproxy_acl_denials_total', 'principal="User:bob",operation="Read",resource_type="topic"') > 0, 'bob Read')
  })
})
