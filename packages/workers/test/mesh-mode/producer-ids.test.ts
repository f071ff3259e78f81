// The producer id map: one InitProducerId per (cluster, client producer id, epoch), shared by the
// batches that wait for it, across workers through the registry (a worker that did not make a
// mapping gets the same one); errors not remembered; bounds and idle eviction of a worker's
// cache. That the clusters accept the mapped batches is the integration test's part
// (test/integration/mesh-mode-producer-ids.test.ts).
import t from 'tap'
import pino from 'pino'
import { MeshProducerIds } from '../../src/mesh-mode/producer-ids.ts'
import type { ProducerAnswer, ProducerIdSource } from '../../src/mesh-mode/producer-ids.ts'
import { localClaims, ProducerIdRegistry } from '../../src/mesh-mode/producer-id-registry.ts'

function source (name: string): ProducerIdSource & { asked: ProducerAnswer[], next: bigint } {
  const s = {
    name,
    down: false,
    asked: [] as ProducerAnswer[],
    next: 1000n,
    newProducerId (done: ProducerAnswer) { s.asked.push(done) }
  }
  return s
}

function recordingLogger (): { logger: pino.Logger, lines: any[] } {
  const lines: any[] = []
  const logger = pino({ level: 'debug' }, { write: (l: string) => { lines.push(JSON.parse(l)) } })
  return { logger, lines }
}

t.test('one InitProducerId per key however many batches wait; then answered from the cache', async t => {
  const ids = new MeshProducerIds(pino({ level: 'silent' }))
  const b = source('b')
  const got: Array<[number, unknown]> = []
  ids.lookup(b, { producerId: 5n, producerEpoch: 0 }, p => got.push([1, p]))
  ids.lookup(b, { producerId: 5n, producerEpoch: 0 }, p => got.push([2, p]))
  ids.lookup(b, { producerId: 5n, producerEpoch: 1 }, p => got.push([3, p]))
  t.equal(b.asked.length, 2, 'epoch 0 and epoch 1: two keys, two requests')
  b.asked[0]!({ producerId: 1000n, producerEpoch: 0 }, null)
  b.asked[1]!({ producerId: 1001n, producerEpoch: 0 }, null)
  t.same(got, [[1, { producerId: 1000n, producerEpoch: 0 }], [2, { producerId: 1000n, producerEpoch: 0 }], [3, { producerId: 1001n, producerEpoch: 0 }]])
  let cached: unknown = null
  ids.lookup(b, { producerId: 5n, producerEpoch: 0 }, p => { cached = p })
  t.same(cached, { producerId: 1000n, producerEpoch: 0 }, 'synchronously from the cache')
  t.equal(b.asked.length, 2, 'no new request')
  const c = source('c')
  ids.lookup(c, { producerId: 5n, producerEpoch: 0 }, () => {})
  t.equal(c.asked.length, 1, 'another cluster: its own id')
  t.equal(ids.size, 2)
})

t.test('an error reaches every waiter, is logged with its code and is not remembered', async t => {
  const { logger, lines } = recordingLogger()
  const ids = new MeshProducerIds(logger)
  const b = source('b')
  const got: unknown[] = []
  ids.lookup(b, { producerId: 7n, producerEpoch: 0 }, (p, e) => got.push([p, e]))
  ids.lookup(b, { producerId: 7n, producerEpoch: 0 }, (p, e) => got.push([p, e]))
  b.asked[0]!(null, 'cluster b did not answer')
  t.same(got, [[null, 'cluster b did not answer'], [null, 'cluster b did not answer']])
  t.match(lines, [{ level: 40, code: 'KPROXY_WARN_MESH_PRODUCER_ID_FAILED', cluster: 'b', producerId: '7' }])
  ids.lookup(b, { producerId: 7n, producerEpoch: 0 }, () => {})
  t.equal(b.asked.length, 2, 'asked again')
})

t.test('forget: the next lookup gets a new id; a stale forget does not drop a newer mapping', async t => {
  const ids = new MeshProducerIds(pino({ level: 'silent' }))
  const b = source('b')
  const from = { producerId: 3n, producerEpoch: 0 }
  let first: any = null
  ids.lookup(b, from, p => { first = p })
  b.asked[0]!({ producerId: 50n, producerEpoch: 0 }, null)
  ids.forget('b', from, first)
  let second: any = null
  ids.lookup(b, from, p => { second = p })
  t.equal(b.asked.length, 2)
  b.asked[1]!({ producerId: 51n, producerEpoch: 0 }, null)
  ids.forget('b', from, first)
  let third: any = null
  ids.lookup(b, from, p => { third = p })
  t.equal(third, second, 'the newer mapping stays')
})

t.test('bounds: idle mappings dropped when a new one is made; at most maxEntries, least recently used out, warned once', async t => {
  const { logger, lines } = recordingLogger()
  let now = 0
  const ids = new MeshProducerIds(logger, localClaims(), { maxEntries: 3, idleMs: 1000 }, () => now)
  const b = source('b')
  // a lookup, answered at once when it asked the cluster
  const map = (pid: bigint): void => {
    const before = b.asked.length
    ids.lookup(b, { producerId: pid, producerEpoch: 0 }, () => {})
    if (b.asked.length > before) b.asked.at(-1)!({ producerId: 1000n + pid, producerEpoch: 0 }, null)
  }
  map(1n); now = 100; map(2n); now = 200; map(3n)
  t.equal(ids.size, 3)
  now = 300
  map(1n) // used again: now the most recent
  t.equal(b.asked.length, 3, 'a hit')
  now = 400
  map(4n) // full: 2 (least recently used) goes
  t.equal(ids.size, 3)
  t.match(lines, [{ code: 'KPROXY_WARN_MESH_PRODUCER_IDS_FULL' }])
  t.equal(b.asked.length, 4)
  let again: any = null
  ids.lookup(b, { producerId: 2n, producerEpoch: 0 }, p => { again = p })
  t.same(again, { producerId: 1002n, producerEpoch: 0 }, '2 was dropped from the cache: the registry still has it')
  t.equal(b.asked.length, 4, 'no new InitProducerId for it')
  t.equal(ids.size, 3, 'back in the cache, 1 out (least recently used)')
  map(1n)
  t.equal(b.asked.length, 4, '1 comes back from the registry too')
  t.equal(lines.filter(l => l.code === 'KPROXY_WARN_MESH_PRODUCER_IDS_FULL').length, 1, 'warned once a minute at most')
  now = 5000
  map(9n) // every other one idle for over 1000 ms
  t.equal(ids.size, 1, 'idle mappings dropped from the cache')
})

t.test('which cluster allocated a producer id: as forwarded, else the default home cluster; bounded', async t => {
  const ids = new MeshProducerIds(pino({ level: 'silent' }), localClaims(), { maxEntries: 2, idleMs: 1000 })
  ids.allocated(1n, 'a')
  ids.allocated(2n, 'c')
  t.equal(ids.allocatorOf(1n, 'a'), 'a')
  t.equal(ids.allocatorOf(2n, 'a'), 'c')
  t.equal(ids.allocatorOf(99n, 'a'), 'a', 'never seen: the default home cluster')
  ids.allocated(3n, 'c')
  t.equal(ids.allocatorOf(1n, 'x'), 'x', 'the oldest forgotten beyond the bound')
  ids.allocated(-1n, 'c')
  t.equal(ids.allocatorOf(-1n, 'a'), 'a', 'no producer id: nothing recorded')
})

t.test('a cluster already down when asked: the failure is logged at debug only', async t => {
  const { logger, lines } = recordingLogger()
  const ids = new MeshProducerIds(logger)
  const b = { ...source('b'), down: true }
  b.newProducerId = (done: ProducerAnswer) => { done(null, 'down') }
  ids.lookup(b, { producerId: 1n, producerEpoch: 0 }, () => {})
  t.match(lines, [{ level: 20, code: 'KPROXY_WARN_MESH_PRODUCER_ID_FAILED' }])
})

t.test('two workers, one registry: the second gets the producer id the first made, also while it is being made', async t => {
  const registry = new ProducerIdRegistry()
  const w0 = new MeshProducerIds(pino({ level: 'silent' }), localClaims(registry, 0))
  const w1 = new MeshProducerIds(pino({ level: 'silent' }), localClaims(registry, 1))
  const b0 = source('b')
  const b1 = source('b')
  const from = { producerId: 8n, producerEpoch: 0 }
  const got: unknown[] = []
  w0.lookup(b0, from, p => got.push(['w0', p]))
  w1.lookup(b1, from, p => got.push(['w1', p]))
  t.equal(b0.asked.length, 1, 'the first worker takes the producer id')
  t.equal(b1.asked.length, 0, 'the second waits for it instead of taking its own')
  b0.asked[0]!({ producerId: 700n, producerEpoch: 0 }, null)
  t.same(Object.fromEntries(got as Array<[string, unknown]>), { w0: { producerId: 700n, producerEpoch: 0 }, w1: { producerId: 700n, producerEpoch: 0 } })
  const w2 = new MeshProducerIds(pino({ level: 'silent' }), localClaims(registry, 2))
  let later: unknown = null
  w2.lookup(source('b'), from, p => { later = p })
  t.same(later, { producerId: 700n, producerEpoch: 0 }, 'a worker asking later: the same, at once')
  t.equal(registry.size, 1)
})

t.test('registry: a failure reaches the waiting workers and is not remembered; a released mapping is made again; the claims on a dead worker fail', async t => {
  const registry = new ProducerIdRegistry(2)
  const claims: Array<[number, string]> = []
  registry.claim(0, 'k', c => claims.push([0, c.kind]))
  registry.claim(1, 'k', c => claims.push([1, c.kind]))
  registry.made(1, 'k', { producerId: 1n, producerEpoch: 0 }, null)
  t.same(claims, [[0, 'make']], 'only the worker that was told to make it may report it')
  registry.made(0, 'k', null, 'cluster b did not answer')
  t.same(claims, [[0, 'make'], [1, 'failed']])
  registry.claim(1, 'k', c => claims.push([1, c.kind]))
  t.same(claims.at(-1), [1, 'make'], 'asked again after the failure')
  registry.made(1, 'k', { producerId: 9n, producerEpoch: 0 }, null)
  registry.release('k', { producerId: 8n, producerEpoch: 0 })
  t.equal(registry.size, 1, 'a stale release keeps the newer mapping')
  registry.release('k', { producerId: 9n, producerEpoch: 0 })
  t.equal(registry.size, 0, 'released')
  registry.claim(0, 'x', () => {})
  let told: any = null
  registry.claim(1, 'x', c => { told = c })
  registry.workerGone(0)
  t.match(told, { kind: 'failed', error: /worker 0 stopped/ })
  for (const k of ['p', 'q', 'r']) {
    registry.claim(0, k, () => {})
    registry.made(0, k, { producerId: 1n, producerEpoch: 0 }, null)
  }
  t.equal(registry.size, 2, 'bounded: the least recently claimed out')
  let kind = ''
  registry.claim(0, 'p', c => { kind = c.kind })
  t.equal(kind, 'make', 'p was the one dropped')
})

t.test('the shared store: asked on a miss of the process, told which producer the cluster refused', async t => {
  const asked: Array<{ key: string, refused: unknown }> = []
  const refreshed: unknown[] = []
  const store = {
    refresh (inUse: ReadonlyArray<readonly [string, unknown]>) { refreshed.push(...inUse) },
    resolve (key: string, refused: unknown, make: (done: ProducerAnswer) => void, done: ProducerAnswer) {
      asked.push({ key, refused })
      // another replica's mapping for epoch 0; the cluster's own for the rest
      if (refused === null && key.endsWith('\u00000')) done({ producerId: 77n, producerEpoch: 3 }, null)
      else make(done)
    }
  }
  const ids = new MeshProducerIds(pino({ level: 'silent' }), localClaims(), undefined, undefined, store)
  const b = source('b')
  const from = { producerId: 5n, producerEpoch: 0 }
  let got: unknown = null
  ids.lookup(b, from, p => { got = p })
  t.same(got, { producerId: 77n, producerEpoch: 3 }, 'the store\'s mapping, no InitProducerId')
  t.equal(b.asked.length, 0)
  // the object the batches went up under, as the produce handler hands it back
  ids.forget('b', from, got as unknown as { producerId: bigint, producerEpoch: number })
  ids.lookup(b, from, p => { got = p })
  t.same(asked[1], { key: 'b\u00005\u00000', refused: { producerId: 77n, producerEpoch: 3 } }, 'after a refusal the store is told which one')
  b.asked[0]!({ producerId: 1000n, producerEpoch: 0 }, null)
  t.same(got, { producerId: 1000n, producerEpoch: 0 }, 'and the new one is used')
  ids.forget('b', from, { producerId: 9n, producerEpoch: 9 })
  ids.lookup(b, from, () => {})
  t.equal(asked.length, 2, 'a stale refusal does not drop the mapping in use, so the store is not asked')
  ids.refreshInUse()
  t.same(refreshed, [['b\u00005\u00000', { producerId: 1000n, producerEpoch: 0 }]], 'refreshInUse: the mapping in use handed to the store to be written again when old')
})
