import t from 'tap'
import { parsePartitionSet, partitionSetHas } from '../../src/policy/partition-set.ts'

t.test('lists, ranges, open ranges; merged and sorted', async t => {
  const a = parsePartitionSet(['0-3', 7])
  t.same(typeof a !== 'string' && a.ranges, [[0, 3], [7, 7]])
  const b = parsePartitionSet('[10-, 4, 2-3, 5]')
  t.same(typeof b !== 'string' && b.ranges, [[2, 5], [10, Infinity]])
  t.equal(typeof b !== 'string' && b.text, '2-5, 10-')
  const c = parsePartitionSet(3)
  t.same(typeof c !== 'string' && c.ranges, [[3, 3]])
  if (typeof b !== 'string') {
    t.same([0, 1, 2, 5, 6, 9, 10, 2 ** 31 - 1].map(p => partitionSetHas(b, p)), [false, false, true, true, false, false, true, true])
  }
})

t.test('bad values say what is allowed', async t => {
  t.match(parsePartitionSet([]), /empty/)
  t.match(parsePartitionSet(['3-1']), /empty range/)
  t.match(parsePartitionSet(['a']), /write 7, 0-3 or 10-/)
  t.match(parsePartitionSet([-1]), /not a partition number/)
  t.match(parsePartitionSet([1.5]), /not a partition number/)
  t.match(parsePartitionSet(['99999999999']), /not a partition number/)
  t.match(parsePartitionSet({ a: 1 }), /expected a list/)
})
