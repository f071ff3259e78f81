// Which bootstrap server a new connection tries first: spread in turn, recently failed ones last,
// and a failure reported once (the worker logs it), not once per connection.
import t from 'tap'
import { FAILURE_MEMORY_MS, ServerHealth } from '../../src/upstream/server-health.ts'

const A = { host: 'a', port: 9092 }
const B = { host: 'b', port: 9092 }
const C = { host: 'c', port: 9092 }
const names = (list: Array<{ host: string }>): string => list.map(s => s.host).join('')

t.test('connections are spread over the servers in turn', async t => {
  const h = new ServerHealth(() => 0)
  t.same([names(h.order([A, B, C])), names(h.order([A, B, C])), names(h.order([A, B, C])), names(h.order([A, B, C]))], ['abc', 'bca', 'cab', 'abc'])
})

t.test('a failed server goes last for FAILURE_MEMORY_MS, the longest-failed first among failed ones', async t => {
  let now = 1000
  const h = new ServerHealth(() => now)
  h.failed(A)
  now += 10
  h.failed(C)
  t.same(names(h.order([A, B, C])), 'bac', 'the healthy one first, then the one that failed longest ago')
  t.ok(h.recentlyFailed(A))
  h.ok(A)
  t.notOk(h.recentlyFailed(A), 'an answer clears it')
  now += FAILURE_MEMORY_MS
  t.notOk(h.recentlyFailed(C), 'forgotten after FAILURE_MEMORY_MS')
})

t.test('a failure is reported when a healthy server fails, not again while it stays failed', async t => {
  let now = 0
  const reports: string[] = []
  const h = new ServerHealth(() => now, (s, why) => reports.push(`${s.host}: ${why}`))
  h.failed(A, 'did not answer within 1000 ms')
  now += 100
  h.failed(A, 'did not answer within 1000 ms')
  h.failed(B, 'connection refused')
  t.same(reports, ['a: did not answer within 1000 ms', 'b: connection refused'])
  now += FAILURE_MEMORY_MS
  h.failed(A, 'again')
  t.same(reports.at(-1), 'a: again', 'reported again once the failure was forgotten')
  h.ok(B)
  h.failed(B, 'refused again')
  t.same(reports.at(-1), 'b: refused again', 'and after the server had answered in between')
})
