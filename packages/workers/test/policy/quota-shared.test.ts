// The supervisor's side of the shared quota table: made once when the config has quotas, kept
// across reloads (a change of size is reported, not applied), and handed to worker threads, where
// a bad quotas file stops the start with its file:line problems.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { QuotaTable } from '@kproxy/core/policy/quota-table'
import { quotaBufferFor, SharedQuotaState } from '../../src/policy/quota-shared.ts'
import type { FromWorker, WorkerData } from '../../src/runtime/messages.ts'

const ENTRY = new URL('../../src/runtime/worker-main.ts', import.meta.url)

function config (dir: string, policy: unknown) {
  return resolveConfig({ source: join(dir, 'kproxy.yaml'), file: policy === undefined ? {} : { policy }, flags: { upstream: '127.0.0.1:1', listen: '127.0.0.1:19999', 'broker-port-base': '1' } })
}

t.test('made once with the configured size and window count; kept across reloads', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-quota-shared-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  t.equal(quotaBufferFor(config(dir, undefined).policy, null, logger), null, 'no quotas, no table')

  writeFileSync(join(dir, 'quotas.yaml'), 'window: { samples: 5, seconds: 1 }\nentities:\n  - user: alice\n    produceBytesPerSecond: 5MB\n')
  const withFile = config(dir, { quotas: { file: 'quotas.yaml', maxBuckets: 128 } })
  const buffer = quotaBufferFor(withFile.policy, null, logger)
  t.ok(buffer instanceof SharedArrayBuffer)
  const table = new QuotaTable(buffer!)
  t.equal(table.capacity, 128)
  t.equal(table.samples, 5, 'the window count of the quotas file')

  t.equal(quotaBufferFor(withFile.policy, buffer, logger), buffer, 'a reload keeps the table (and every window in it)')
  t.equal(logs.length, 0)
  const bigger = config(dir, { quotas: { file: 'quotas.yaml', maxBuckets: 4096 } })
  t.equal(quotaBufferFor(bigger.policy, buffer, logger), buffer, 'a new size waits for a restart')
  t.equal(logs[0]?.code, 'KPROXY_WARN_QUOTA_RESTART')
  t.equal(quotaBufferFor(config(dir, undefined).policy, buffer, logger), buffer, 'quotas switched off: kept for when they come back')

  const inline = config(dir, { quotas: { entities: [{ user: 'bob', requestsPerSecond: 10 }] } })
  const b2 = quotaBufferFor(inline.policy, null, logger)
  t.equal(new QuotaTable(b2!).samples, 11, "Kafka's default window count")
  t.equal(new QuotaTable(b2!).capacity, 16384)
})

t.test('a worker started with a bad quotas file: fatal, with file:line and what is allowed', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-quota-worker-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'quotas.yaml')
  writeFileSync(file, 'entities:\n  - user: alice\n    produceBytesPerSecond: fast\n')
  // the config check does not read the file: a worker finds the problem when it starts
  const cfg = config(dir, { quotas: { file: 'quotas.yaml' } })
  const data: WorkerData = { workerId: 0, config: cfg, quota: { table: QuotaTable.create(64, 11).buffer, holds: new SharedArrayBuffer(QuotaTable.holdsBytes(64)) } }
  const worker = new Worker(ENTRY, { workerData: data, stdout: true })
  worker.stdout.resume()
  const messages: FromWorker[] = []
  worker.on('message', (m: FromWorker) => messages.push(m))
  const code = await new Promise(resolve => worker.on('exit', resolve))
  t.equal(code, 1)
  const fatal = messages.find(m => m.type === 'fatal') as Extract<FromWorker, { type: 'fatal' }> | undefined
  t.equal(fatal?.code, 'KPROXY_ERR_QUOTAS')
  t.match(fatal?.message, `${file}:3:28: entities[0].produceBytesPerSecond: got 'fast'; allowed: a number above 0 of bytes`)
})

t.test("the supervisor's state: one table, one record of places per worker slot, released when a worker dies", async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-quota-state-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'debug' }, { write (s: string) { logs.push(JSON.parse(s)) } })
  const off = new SharedQuotaState(config(dir, undefined).policy, logger)
  t.equal(off.forWorker(0), null, 'no quotas: nothing to give')
  off.reload(config(dir, { quotas: { maxBuckets: 32, entities: [{ user: 'alice', connections: 3 }] } }).policy)
  const w0 = off.forWorker(0)!
  t.equal(new QuotaTable(w0.table).capacity, 32, 'made at the reload that switched quotas on')
  t.equal(off.forWorker(0)!.holds, w0.holds, 'a restarted worker in slot 0 gets the same record')
  t.not(off.forWorker(1)!.holds, w0.holds, 'slot 1 has its own')
  t.equal(off.forWorker(1)!.table, w0.table, 'and the same table')
  const worker = new QuotaTable(w0.table)
  worker.trackHolds(new Int32Array(w0.holds))
  const bucket = worker.bucket('connections|u="alice"|c-', 0)
  t.ok(worker.tryAcquire(bucket, 3))
  t.ok(worker.tryAcquire(bucket, 3))
  worker.release(bucket)
  t.ok(worker.tryAcquire(bucket, 3))
  t.equal(worker.gauge(bucket), 2)
  t.equal(off.workerGone(0), 2, 'the two places worker 0 still held')
  t.equal(worker.gauge(bucket), 0)
  t.equal(off.workerGone(0), 0, 'given back once')
  t.ok(logs.some(l => l.released === 2))
})
