// The policy checks the request path makes, measured alone: per-partition ACL checks with 200
// rules and quota records into the shared table. Prints time and heap bytes per operation
// (0 bytes means nothing is allocated once a principal's view of a topic is compiled).
//   node --expose-gc bench/src/policy-micro.ts
import { AclAuthorizer } from '@kproxy/core/policy/acl-authorizer'
import { parseAclRulesFile } from '@kproxy/core/policy/acl-rules-parser'
import { aclChecksFor } from '@kproxy/core/policy/acl-api-checks'
import { parseQuotasFile } from '@kproxy/core/policy/quota-config'
import { QuotaEnforcer } from '@kproxy/core/policy/quota-enforcer'
import { QuotaTable } from '@kproxy/core/policy/quota-table'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc for the allocation column\n')
}

function measure (name: string, ops: number, fn: () => number): void {
  let sink = 0
  for (let i = 0; i < ops / 10; i++) sink += fn() // warm up, compile
  gc?.()
  const heap = process.memoryUsage().heapUsed
  const start = process.hrtime.bigint()
  for (let i = 0; i < ops; i++) sink += fn()
  const ns = Number(process.hrtime.bigint() - start) / ops
  const bytes = (process.memoryUsage().heapUsed - heap) / ops
  process.stdout.write(`${name.padEnd(52)} ${ns.toFixed(1).padStart(8)} ns/op  ${gc === undefined ? '' : `${Math.max(0, bytes).toFixed(2).padStart(6)} B/op`}  (${sink % 2})\n`)
}

// 200 rules: 196 for other principals and topics, 4 that matter for alice and orders.
const lines = ['rules:']
for (let i = 0; i < 196; i++) lines.push(`  - { allow: [Read, Write], principal: "User:user-${i}", topic: { prefix: "team-${i}-" }, partitions: [0-${i % 50}] }`)
lines.push('  - { allow: [Write], principal: User:alice, topic: orders, partitions: [0-3] }')
lines.push('  - { allow: [Read], principal: User:alice, topic: orders }')
lines.push('  - { deny: [Write], principal: User:alice, topic: orders, partitions: [2] }')
lines.push('  - { allow: [Describe], principal: "*", topic: "*" }')
const acl = new AclAuthorizer(parseAclRulesFile(lines.join('\n'), 'bench.yaml'), { defaultDecision: 'deny' })
const alice = acl.forPrincipal('User:alice')
const orders = alice.topic('orders')
let p = 0
measure('ACL: Write on one partition (compiled view)', 5_000_000, () => {
  p = (p + 1) & 7
  return orders.allows('Write', p) ? 1 : 0
})
measure('ACL: topic lookup + Write on one partition', 5_000_000, () => {
  p = (p + 1) & 7
  return alice.topic('orders').allows('Write', p) ? 1 : 0
})
measure('ACL: the checks of Produce v9 (table lookup)', 5_000_000, () => aclChecksFor(0, 9)!.length)

const rules = parseQuotasFile('entities:\n  - { user: alice, produceBytesPerSecond: 1GB, requests: [{ apis: [Produce], perSecond: 1000000 }] }\n', 'q.yaml')
const quotas = new QuotaEnforcer(QuotaTable.create(1024, rules.samples), rules).forConnection('alice', 'bench')
// The clock advances a millisecond every 1024 requests. A fresh timestamp per call would show up
// as 16 bytes per call: a double passed to a function that is not inlined is boxed. The engine
// reads the clock once per request (not per partition), so that is the cost it pays.
let now = Date.now()
let n = 0
measure('quota: produce bytes + request (not over the limit)', 2_000_000, () => {
  if ((++n & 1023) === 0) now += 1
  return quotas.onProduceBytes(1000, now) + quotas.onRequest(0, now)
})
