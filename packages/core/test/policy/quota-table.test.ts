import t from 'tap'
import { NO_BUCKET, QuotaTable, throttleTimeMs } from '../../src/policy/quota-table.ts'
import { parseQuotasFile } from '../../src/policy/quota-config.ts'
import { QuotaEnforcer } from '../../src/policy/quota-enforcer.ts'

t.test("the rate is Kafka's: sum over the live samples, at least samples-1 windows", async t => {
  const table = QuotaTable.create(64, 11)
  const b = table.bucket('k', 1000)
  const out = new Float64Array(2)
  const base = Date.now() + 10_000
  // first record: elapsed counted as 10 full windows at least
  table.record(b, 1000, base, out)
  t.ok(out[1]! >= 10_000 && out[1]! < 11_000, `window ${out[1]}`)
  t.equal(out[0], 1000 / (out[1]! / 1000))
  // 11 s of 1000 units per second: the rate settles near 1000/s
  for (let s = 1; s <= 30; s++) table.record(b, 1000, base + s * 1000, out)
  t.ok(out[0]! >= 900 && out[0]! <= 1150, `steady rate ${out[0]}`)
  // after a long silence the old samples expire
  table.record(b, 0, base + 120_000, out)
  t.equal(out[0], 0)
  t.equal(table.bucket('k', 1000), b, 'the same key finds the same bucket')
  t.not(table.bucket('k2', 1000), b)
})

t.test('throttle time: (O - T) / T * W, capped', async t => {
  t.equal(throttleTimeMs(100, 100, 10_000, 30_000), 0)
  t.equal(throttleTimeMs(150, 100, 10_000, 30_000), 5000)
  t.equal(throttleTimeMs(1000, 100, 10_000, 30_000), 30_000)
})

t.test('a full table stops taking new keys and counts them', async t => {
  const table = QuotaTable.create(16, 2)
  const got = Array.from({ length: 20 }, (_, i) => table.bucket(`key-${i}`, 1000))
  t.equal(got.filter(b => b !== NO_BUCKET).length, 15, '90% of 16')
  t.same(table.stats(), { capacity: 16, used: 15, full: 5 })
  t.equal(table.bucket('key-3', 1000), got[3], 'known keys still resolve')
})

t.test('an enforced client converges to its quota (simulated clock, the client honours throttle_time_ms)', async t => {
  const rules = parseQuotasFile('entities:\n  - { user: alice, produceBytesPerSecond: 5MB, requests: [{ apis: [Metadata], perSecond: 50 }] }\n', 'q.yaml')
  const enforcer = new QuotaEnforcer(QuotaTable.create(64, rules.samples), rules)
  const alice = enforcer.forConnection('alice', 'p1')
  let now = Date.now()
  const start = now
  let bytes = 0
  let throttled = 0
  // a producer that would send 1 MB every 50 ms (20 MB/s) without a quota
  while (now - start < 120_000) {
    const ms = alice.onProduceBytes(1_000_000, now)
    bytes += 1_000_000
    if (ms > 0) throttled++
    now += 50 + ms
  }
  const rate = bytes / ((now - start) / 1000)
  t.ok(Math.abs(rate - 5e6) / 5e6 < 0.1, `observed ${(rate / 1e6).toFixed(2)} MB/s against 5 MB/s`)
  t.ok(throttled > 0)
  t.equal(alice.lastThrottleKind, 'produce-bytes')

  const meta = enforcer.forConnection('alice', 'p2')
  let n = 0
  let mnow = Date.now() + 200_000
  const mstart = mnow
  while (mnow - mstart < 60_000) {
    const ms = meta.onRequest(3, mnow)
    n++
    mnow += 1 + ms
  }
  const mrate = n / ((mnow - mstart) / 1000)
  t.ok(Math.abs(mrate - 50) / 50 < 0.1, `Metadata ${mrate.toFixed(1)}/s against 50/s`)
  t.equal(meta.onRequest(0, mnow), 0, 'Produce is not in the Metadata group')
})

t.test('connections: the limit across connections, carried over a reload, a connection-rate refusal names its rule', async t => {
  const rules = parseQuotasFile('entities:\n  - { user: alice, connections: 2, connectionsPerSecond: 100 }\n  - { user: bob, connectionsPerSecond: 2 }\n', 'q.yaml')
  const enforcer = new QuotaEnforcer(QuotaTable.create(64, rules.samples), rules)
  const now = Date.now()
  const c1 = enforcer.forConnection('alice', 'x')
  const c2 = enforcer.forConnection('alice', 'y')
  const c3 = enforcer.forConnection('alice', 'z')
  t.equal(c1.open(now), null)
  t.equal(c2.open(now), null)
  t.match(c3.open(now), { kind: 'connections', limit: 2, message: /2 connection\(s\) already open, the most allowed by q\.yaml:2:5/ })
  enforcer.update(rules, 2)
  const c1b = enforcer.forConnection('alice', 'x')
  c1b.carryOver(c1)
  t.match(enforcer.forConnection('alice', 'w').open(now), { kind: 'connections' }, 'still two open after the reload')
  c1b.close()
  t.equal(c3.open(now), null, 'a place is free again')
  const results = Array.from({ length: 30 }, () => enforcer.forConnection('bob', 'b').open(now))
  t.ok(results.filter(r => r === null).length >= 20 && results.filter(r => r === null).length <= 23, `about 2/s over the 11 s window: ${results.filter(r => r === null).length} of 30`)
  t.match(results.find(r => r !== null), { kind: 'connection-rate', where: /q\.yaml:3:5/ })
})
