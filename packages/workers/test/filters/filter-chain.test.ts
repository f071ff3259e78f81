import t from 'tap'
import { FilterChain } from '../../src/filters/filter-chain.ts'
import type { Filter } from '../../src/filters/filter-api.ts'

const f = (interests: Filter['interests']): Filter => ({ interests })

t.test('interests compile into per-(key, version) tables, in chain order', async t => {
  const a = f({ requests: [{ apiKeys: ['Produce'], minVersion: 9, level: 'header' }] })
  const b = f({ requests: [{ apiKeys: [0, 3] }], responses: [{ apiKeys: 'all', level: 'header' }] })
  const chain = new FilterChain([{ label: 'a', filter: a }, { label: 'b', filter: b }])
  t.equal(chain.requestFilters(0, 8)!.map(x => x.member.label).join(), 'b', 'a wants Produce from v9 only')
  t.same(chain.requestFilters(0, 9)!.map(x => [x.member.label, x.level]), [['a', 'header'], ['b', 'body']])
  t.equal(chain.requestFilters(1, 12), null, 'nobody wants Fetch requests: null, the fast path')
  t.same(chain.responseFilters(1, 12)!.map(x => x.member.label), ['b'])
  t.ok(chain.wantsBody(3, 12))
  t.notOk(chain.wantsBody(0, 9) && false)
  t.notOk(chain.wantsBody(1, 12), 'header-level interest needs no decode')
  t.equal(chain.requestFilters(999, 0), null, 'outside the tables')
  t.equal(chain.requestFilters(0, 999), null)
})

t.test('the same filter twice for a key: one entry, the wider level', async t => {
  const a = f({ requests: [{ apiKeys: ['Metadata'], level: 'header' }, { apiKeys: ['Metadata'], level: 'body' }] })
  const chain = new FilterChain([{ label: 'a', filter: a }])
  t.same(chain.requestFilters(3, 12)!.map(x => x.level), ['body'])
})

t.test('an interest naming no Kafka API is refused with the filter\'s name', async t => {
  t.throws(() => new FilterChain([{ label: 'typo', filter: f({ requests: [{ apiKeys: ['Produse'] }] }) }]), /filter typo: requests interest names API key "Produse"/)
})

t.test('close() reaches every filter, even when one throws', async t => {
  const closed: string[] = []
  const chain = new FilterChain([
    { label: 'x', filter: { interests: {}, close () { closed.push('x'); throw new Error('no') } } },
    { label: 'y', filter: { interests: {}, close () { closed.push('y') } } }
  ])
  chain.close()
  t.same(closed, ['x', 'y'])
})
