import t from 'tap'
import type { Test } from 'tap'
import pino from 'pino'
import { getApi } from '@kproxy/core/protocol/codec'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { faultInjection, parseFaultInjectionConfig } from '../../../src/filters/builtin/fault-injection.ts'
import { decoded, harness, produceBody, request, tick } from '../../session/session-harness.ts'

function filterWith (config: unknown, metrics = new MetricsRegistry()) {
  const filter = faultInjection.create(parseFaultInjectionConfig(config), { logger: pino({ level: 'silent' }), workerId: 1, counter: e => metrics.filterCounter('faultInjection', e) })
  return { filter, metrics }
}

t.test('100% NOT_LEADER_OR_FOLLOWER on Produce to one topic: per partition, counted; other topics pass', async t => {
  const { filter, metrics } = filterWith({ rules: [{ match: { apiKeys: ['Produce'], topics: ['orders'] }, percent: 100, action: { error: 'NOT_LEADER_OR_FOLLOWER' } }] })
  const h = harness({ filters: [filter] })
  h.socket.send(request(0, 9, 1, produceBody(['orders'])), request(0, 9, 2, produceBody(['other'])))
  t.equal(h.route.forwarded.length, 1)
  t.equal(h.route.forwarded[0]!.entry!.correlationId, 2)
  const resp = getApi(0).response
  h.route.answer(0, { ...resp.create(), responses: [] })
  const [first] = h.socket.responses().map(p => decoded(p, 0, 9))
  t.same(first!.body.responses.map((r: any) => [r.name, r.partitionResponses.map((p: any) => p.errorCode)]), [['orders', [6]]])
  t.same(metrics.snapshot().filterEvents, [['faultInjection', 'Produce:error:NOT_LEADER_OR_FOLLOWER', 1]])
})

t.test('a percentage with a seed: the same faults on every run, about that share', async t => {
  const run = (): boolean[] => {
    const { filter } = filterWith({ seed: 7, rules: [{ percent: 30, action: { error: 'REQUEST_TIMED_OUT' } }] })
    const out: boolean[] = []
    for (let i = 0; i < 2000; i++) out.push(filter.onRequest!({ apiKey: 3, connection: { principal: 'ANONYMOUS' } } as any) !== undefined)
    return out
  }
  const a = run()
  t.same(run(), a, 'repeatable')
  const share = a.filter(Boolean).length / a.length
  t.ok(share > 0.25 && share < 0.35, `share ${share}`)
})

t.test('delay holds the request, then forwards it; close closes; principals and client ids match', async t => {
  const { filter } = filterWith({ rules: [
    { match: { clientIds: ['slow'] }, percent: 100, action: { delayMs: 20 } },
    { match: { principals: ['User:chaos'] }, percent: 100, action: { close: true } }
  ] })
  const h = harness({ filters: [filter] })
  const md = { ...getApi(3).request.create(), topics: [] }
  h.socket.send(request(3, 12, 1, md, 'slow'))
  t.equal(h.route.forwarded.length, 0, 'held')
  await new Promise(resolve => setTimeout(resolve, 50))
  await tick()
  t.equal(h.route.forwarded.length, 1, 'forwarded after the delay')
  const h2 = harness({ filters: [filter], principal: 'User:chaos' })
  h2.socket.send(request(3, 12, 1, md, 'fast'))
  t.ok(h2.session.closed)
  t.ok(h2.logs.some(l => l.code === 'KPROXY_ERR_FILTER_CLOSED'))
})

t.test('config problems are listed together with their paths', async t => {
  expectProblems(t, () => parseFaultInjectionConfig({ rules: [{ match: { apiKeys: ['Nope'], topics: ['/[/'] }, percent: -1, action: { delayMs: 1, close: true } }], extra: 1 }), (err: Error) => {
    const lines = err.message.split('\n')
    return lines.some(l => l.startsWith('extra: unknown key')) && lines.some(l => l.startsWith('rules[0].match.apiKeys[0]')) &&
      lines.some(l => l.startsWith('rules[0].match.topics[0]')) && lines.some(l => l.startsWith('rules[0].percent')) && lines.some(l => l.startsWith('rules[0].action'))
  })
  t.throws(() => parseFaultInjectionConfig({ rules: [] }), /rules: allowed: a non-empty list/)
})

function expectProblems (t: Test, fn: () => unknown, check: (err: Error) => boolean): void {
  try {
    fn()
    t.fail('no error')
  } catch (err) {
    t.ok(check(err as Error), (err as Error).message)
  }
}
