// The shared quota table across real worker threads: concurrent claims agree on one bucket per
// key, no record is lost, and the connection limit holds exactly.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { QuotaTable } from '../../src/policy/quota-table.ts'

const WORKERS = 4
const RECORDS = 500_000

t.test('four workers hammer one table', async t => {
  const table = QuotaTable.create(1024, 11)
  const barrier = new SharedArrayBuffer(8)
  new Int32Array(barrier)[1] = WORKERS
  const now = Date.now() + 1000
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`)
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, w) => new Promise<{ buckets: Record<string, number>, acquired: number }>((resolve, reject) => {
    // each worker meets the keys in a different order
    const mine = w % 2 === 0 ? keys : [...keys].reverse()
    const worker = new Worker(new URL('../fixtures/quota/table-worker.ts', import.meta.url), {
      workerData: { buffer: table.buffer, barrier, keys: mine, records: RECORDS, now, acquires: 1000, limit: 100 }
    })
    worker.once('message', resolve)
    worker.once('error', reject)
  })))
  for (const key of keys) {
    const ids = new Set(results.map(r => r.buckets[key]))
    if (ids.size !== 1) t.fail(`${key} got buckets ${[...ids].join(', ')}`)
    if (table.bucket(key, 1000) !== results[0]!.buckets[key]) t.fail(`${key}: the main thread finds another bucket`)
  }
  t.equal(new Set(keys.map(k => results[0]!.buckets[k])).size, keys.length, 'one bucket per key')
  t.equal(table.stats().used, keys.length + 2, 'the keys, "shared" and "gauge": nothing claimed twice')

  const out = new Float64Array(2)
  table.record(table.bucket('shared', 1000), 0, now, out)
  t.equal(Math.round(out[0]! * out[1]! / 1000), WORKERS * RECORDS, 'every record counted once')
  t.equal(results.reduce((n, r) => n + r.acquired, 0), 100, 'exactly the limit of connection places taken')
  t.equal(table.gauge(table.bucket('gauge', 0)), 100)
})
