// The hot-path promise of the flow registry: once a flow exists, reporting a Produce request or a
// Fetch response allocates nothing. Checked by counting minor GCs in a child process whose young
// generation is 1 MiB: 300,000 reports allocating even 16 bytes each would fill it several times
// over; allocating nothing, they cause none (one is allowed for what the loop's start leaves).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { FlowRegistry } from '../../src/metrics/flow-registry.ts'
import { encodeRequest, encodeResponse } from '../../src/protocol/codec.ts'
import { ApiKey } from '../../src/protocol/api-keys.ts'

const REPORTS = 300_000

async function measure (): Promise<void> {
  const flows = new FlowRegistry()
  const client = flows.client({ principal: 'User:a', clientId: 'app', softwareName: 'kcat', softwareVersion: '1', target: 'broker-1' })
  const produce = Buffer.concat(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: 'app' }, {
    transactionalId: null, acks: 1, timeoutMs: 1000,
    topicData: ['orders', 'payments', 'audit'].map(name => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [0, 1, 2].map(index => ({ index, records: Buffer.alloc(1000) })) }))
  }))
  // split so that names and lengths straddle chunk boundaries
  const produceFrame = { size: produce.length - 4, chunks: [produce.subarray(4, 41), produce.subarray(41, 300), produce.subarray(300)] }
  const fetch = Buffer.concat(encodeResponse(ApiKey.Fetch, 13, { correlationId: 1 }, {
    throttleTimeMs: 0, errorCode: 0, sessionId: 0, nodeEndpoints: [],
    responses: [{ topic: '', topicId: Buffer.alloc(16, 3).toString('base64url'), partitions: [0, 1].map(p => ({ partitionIndex: p, errorCode: 0, highWatermark: 0n, lastStableOffset: -1n, logStartOffset: -1n, divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: null, preferredReadReplica: -1, records: Buffer.alloc(5000) })) }]
  }))
  const fetchFrame = { size: fetch.length - 4, chunks: [fetch.subarray(4)] }
  for (let i = 0; i < 20_000; i++) { flows.produce(client, produceFrame, 9); flows.fetch(client, fetchFrame, 13) }
  let minor = 0
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
  })
  observer.observe({ entryTypes: ['gc'] })
  for (let i = 0; i < REPORTS; i++) { flows.produce(client, produceFrame, 9); flows.fetch(client, fetchFrame, 13) }
  await new Promise(resolve => setTimeout(resolve, 20))
  observer.disconnect()
  process.stdout.write(JSON.stringify({ minor, flows: flows.snapshot().flows.length }) + '\n')
}

if (process.env.KPROXY_ALLOC_CHILD === '1') {
  await measure()
} else {
  t.test('no allocation per report once the flow exists', async t => {
    const child = spawnSync(process.execPath, ['--max-semi-space-size=1', fileURLToPath(import.meta.url)], { env: { ...process.env, KPROXY_ALLOC_CHILD: '1' }, encoding: 'utf8' })
    t.equal(child.status, 0, child.stderr)
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { minor: number, flows: number }
    t.equal(result.flows, 4, 'three produce topics and one fetched topic')
    t.ok(result.minor <= 1, `${result.minor} minor GCs during ${REPORTS} Produce and ${REPORTS} Fetch reports`)
  })
}
