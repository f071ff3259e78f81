import t from 'tap'
import pino from 'pino'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { createApiKeyPolicy, policyTable } from '../../../src/filters/builtin/api-key-policy.ts'

t.test('policy: Envoy semantics', async t => {
  const all = policyTable([], [])
  t.equal(all[0], 1)
  const denied = policyTable([], [19])
  t.equal(denied[19], 0)
  t.equal(denied[18], 1)
  const allowed = policyTable([0, 3, 18], [3])
  t.same([allowed[0], allowed[3], allowed[18], allowed[19]], [1, 0, 1, 0], 'allow list, deny wins')
})

t.test('the filter wants exactly the denied keys, and nothing when nothing is denied', async t => {
  const logger = pino({ level: 'silent' })
  t.equal(createApiKeyPolicy([], [], noopProxyMetrics, logger), null)
  const f = createApiKeyPolicy([], [0, 19], noopProxyMetrics, logger)!
  t.same(f.interests.requests, [{ apiKeys: [0, 19], level: 'body' }])
  const denied: number[] = []
  const g = createApiKeyPolicy([3, 18], [], { ...noopProxyMetrics, denied: k => denied.push(k) }, logger)!
  const keys = (g.interests.requests![0]!.apiKeys as number[])
  t.notOk(keys.includes(3)); t.notOk(keys.includes(18)); t.ok(keys.includes(0))
  const action = g.onRequest!({ apiKey: 0, apiVersion: 9 } as any)
  t.equal((action as any).kind, 'error')
  t.same(denied, [0], 'counted as denied')
})
