import t from 'tap'
import { HomeRouter, ruleConflicts, TopicRouter } from '../../src/mesh/topic-router.ts'
import type { MeshRule } from '../../src/mesh/topic-router.ts'

const SEED: MeshRule[] = [
  { kind: 'prefix', match: 'a', cluster: 'one', rename: null },
  { kind: 'prefix', match: 'b', cluster: 'two', rename: 'fruit.b' },
  { kind: 'exact', match: 'cherries', cluster: 'three', rename: 'stone-fruit' },
  { kind: 'regex', match: '^logs-[0-9]+$', cluster: 'three', rename: null }
]

t.test('forward: first match, renames applied', async t => {
  const r = new TopicRouter(SEED, null)
  t.same(r.route('apples'), { cluster: 'one', name: 'apples' })
  t.same(r.route('berries'), { cluster: 'two', name: 'fruit.berries' })
  t.same(r.route('cherries'), { cluster: 'three', name: 'stone-fruit' })
  t.same(r.route('logs-12'), { cluster: 'three', name: 'logs-12' })
  t.equal(r.route('cherries2'), null, 'no default: unrouted')
  t.equal(r.route('zebra'), null)
  t.same(new TopicRouter(SEED, 'one').route('zebra'), { cluster: 'one', name: 'zebra' })
})

t.test('back: upstream names to client names, only when they route back', async t => {
  const r = new TopicRouter(SEED, null)
  t.equal(r.clientName('two', 'fruit.berries'), 'berries')
  t.equal(r.clientName('two', 'berries'), null, "cluster two's own 'berries' is not reachable")
  t.equal(r.clientName('three', 'stone-fruit'), 'cherries')
  t.equal(r.clientName('three', 'logs-3'), 'logs-3')
  t.equal(r.clientName('one', 'apples'), 'apples')
  t.equal(r.clientName('one', 'berries'), null, "cluster one's berries would route to two")
  t.equal(r.clientName('one', '__consumer_offsets'), null)
  const d = new TopicRouter(SEED, 'one')
  t.equal(d.clientName('one', 'zebra'), 'zebra')
  t.equal(d.clientName('two', 'zebra'), null)
})

t.test('conflicts', async t => {
  t.same(ruleConflicts(SEED, null), [])
  const overlap = ruleConflicts([{ kind: 'prefix', match: 'ap', cluster: 'one', rename: null }, { kind: 'exact', match: 'apples', cluster: 'two', rename: null }], null)
  t.equal(overlap.length, 1)
  t.equal(overlap[0]!.index, 1)
  t.match(overlap[0]!.message, /overlaps rule 0/)
  t.equal(ruleConflicts([{ kind: 'regex', match: '^a', cluster: 'one', rename: null }, { kind: 'exact', match: 'apples', cluster: 'two', rename: null }], null).length, 1)
  t.equal(ruleConflicts([{ kind: 'prefix', match: 'a', cluster: 'one', rename: null }, { kind: 'prefix', match: 'b', cluster: 'two', rename: null }], null).length, 0)
})

t.test('home clusters of groups and transactional ids', async t => {
  const h = new HomeRouter([{ prefix: 'fruit-', cluster: 'two' }, { prefix: '', cluster: 'three' }], 'one')
  t.equal(h.home('fruit-eaters'), 'two')
  t.equal(h.home('other'), 'three')
  t.equal(new HomeRouter([], 'one').home('x'), 'one')
})

t.test('a hidden topic of kproxy\'s own: no client name routes to it, and it is never shown', async t => {
  const r = new TopicRouter([{ kind: 'prefix', match: 'b', cluster: 'two', rename: null }], 'one', { cluster: 'one', name: '__kproxy_producer_ids' })
  t.equal(r.route('__kproxy_producer_ids'), null, 'the default cluster would take it: hidden')
  t.equal(r.clientName('one', '__kproxy_producer_ids'), null, 'not listed')
  t.same(r.route('__consumer_offsets'), { cluster: 'one', name: '__consumer_offsets' }, 'other names still go to the default cluster')
  const open = new TopicRouter([], 'one')
  t.same(open.route('__kproxy_producer_ids'), { cluster: 'one', name: '__kproxy_producer_ids' }, 'without a hidden topic it routes as any other')
})
