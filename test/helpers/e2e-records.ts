// Shared pieces of the end-to-end tests: durable topics (replication factor 3, min.insync.replicas
// 2), consumer groups that read a known number of records, and an exact-once tally.
import type { Admin, Kafka } from 'kafkajs'
import { Consumer, stringDeserializers } from '@platformatic/kafka'
import { kcat } from './kafka.ts'
import { createTopicsAndWait } from './kafkajs-topics.ts'

export async function createDurableTopics (admin: Admin, names: string[], numPartitions: number): Promise<void> {
  await createTopicsAndWait(admin, names.map(topic => ({
    topic,
    numPartitions,
    replicationFactor: 3,
    configEntries: [{ name: 'min.insync.replicas', value: '2' }]
  })))
}

export interface Tally {
  count: number
  missing: number
  duplicates: number
  unexpected: number
  // a few offenders of each kind, for the failure message
  examples: string[]
}

// Compares what was read with what was expected: every expected value once, nothing else.
export function tally (got: readonly string[], expected: Iterable<string>): Tally {
  const want = new Set(expected)
  const seen = new Set<string>()
  const examples: string[] = []
  let duplicates = 0
  let unexpected = 0
  for (const v of got) {
    if (!want.has(v)) {
      unexpected++
      if (examples.length < 10) examples.push(`unexpected ${v}`)
    } else if (seen.has(v)) {
      duplicates++
      if (examples.length < 10) examples.push(`duplicate ${v}`)
    } else {
      seen.add(v)
    }
  }
  const missing = want.size - seen.size
  if (missing > 0) {
    for (const v of want) {
      if (examples.length >= 15) break
      if (!seen.has(v)) examples.push(`missing ${v}`)
    }
  }
  return { count: got.length, missing, duplicates, unexpected, examples }
}

// How long a group reader keeps listening after the expected count: anything more that arrives
// would be a duplicate or a stray.
const AFTER_COUNT_MS = 500
// @platformatic/kafka's autocommit interval in pltGroupRead.
const PLT_AUTOCOMMIT_MS = 1000

// A kafkajs consumer group reads `count` records of `topic` (or of several topics, one group
// subscribed to all) from the beginning.
export async function kafkajsGroupRead (kafka: Kafka, topic: string | readonly string[], groupId: string, count: number, timeoutMs = 90_000): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, maxBytes: 16 << 20 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: typeof topic === 'string' ? [topic] : [...topic], fromBeginning: true })
    const values: string[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`group ${groupId}: only ${values.length} of ${count} records after ${timeoutMs} ms`)), timeoutMs)
      consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) values.push(m.value!.toString())
          if (values.length >= count) { clearTimeout(timer); resolve() }
        }
      }).catch((err: unknown) => { clearTimeout(timer); reject(err as Error) })
    })
    // anything more that arrives within a moment would be a duplicate or a stray
    await new Promise(resolve => setTimeout(resolve, AFTER_COUNT_MS))
    return values
  } finally {
    await consumer.disconnect()
  }
}

// A @platformatic/kafka consumer group (classic protocol) reads `count` records of `topics` from
// its committed offsets (the earliest for a new group), committing as it goes. Values as strings.
export async function pltGroupRead (bootstrap: string, topics: readonly string[], groupId: string, count: number, timeoutMs = 90_000): Promise<string[]> {
  const consumer = new Consumer({ groupId, clientId: groupId, bootstrapBrokers: [bootstrap], deserializers: stringDeserializers, maxWaitTime: 200 })
  try {
    const stream = await consumer.consume({ topics: [...topics], mode: 'committed', fallbackMode: 'earliest', autocommit: PLT_AUTOCOMMIT_MS })
    const values: string[] = []
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`group ${groupId}: only ${values.length} of ${count} records after ${timeoutMs} ms`)), timeoutMs)
        stream.on('data', (m: { value: string }) => {
          values.push(m.value)
          if (values.length >= count) { clearTimeout(timer); resolve() }
        })
        stream.on('error', (err: Error) => { clearTimeout(timer); reject(err) })
      })
      await new Promise(resolve => setTimeout(resolve, AFTER_COUNT_MS))
    } finally {
      await stream.close()
    }
    return values
  } finally {
    await consumer.close(true)
  }
}

// kcat (librdkafka) as a consumer group member reads `topic` (or several topics, one group
// subscribed to all) to its end (-e: every assigned partition at EOF), so records beyond the
// expected ones would show too. Values, one per line.
export async function kcatGroupRead (bootstrap: string, topic: string | readonly string[], groupId: string, timeoutMs = 90_000): Promise<string[]> {
  const topics = typeof topic === 'string' ? [topic] : topic
  const r = await kcat(['-b', bootstrap, '-G', groupId, '-X', 'auto.offset.reset=earliest', '-q', '-e', '-f', '%s\n', ...topics], { timeoutMs })
  if (r.code !== 0) throw new Error(`kcat -G ${groupId} exited ${String(r.code)} after ${r.stdout.split('\n').length - 1} records: ${r.stderr.slice(-2000)}`)
  return r.stdout.split('\n').filter(Boolean)
}

export function perSecond (count: number, ms: number): string {
  return `${Math.round(count / Math.max(ms, 1) * 1000)} records/s`
}

// Waits until the group's coordinator answers DescribeGroups without an error. The first group
// of a fresh cluster creates __consumer_offsets, and its partitions then load for a while: a
// consumer that joins meanwhile gets COORDINATOR_LOAD_IN_PROGRESS, which kafkajs reports as a
// crash (and restarts). Tests that count crashes wait here first, so that a crash means kproxy.
export async function groupCoordinatorReady (admin: Admin, groupId: string, timeoutMs = 60_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    try {
      await admin.describeGroups([groupId])
      return Date.now() - started
    } catch (err) {
      // kafkajs retries a few times itself and then wraps the last error in a non-retriable
      // KafkaJSNumberOfRetriesExceeded: look at what it wraps (on a loaded machine the offsets
      // topic can take longer to load than kafkajs's own ~6 s of retries)
      const e = err as { retriable?: boolean, cause?: { retriable?: boolean }, originalError?: { retriable?: boolean } }
      const retriable = e.retriable === true || e.cause?.retriable === true || e.originalError?.retriable === true
      if (!retriable || Date.now() - started > timeoutMs) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

// Polls fn until it returns something other than undefined; throws naming `what` after timeoutMs.
export async function waitFor<T> (what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
}
