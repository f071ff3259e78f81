import t from 'tap'
import { DEFAULT_BROKER_HEAP, heapArgs, parseHeapSize } from '../../src/sandbox/broker-heap.ts'

t.test('Java sizes', async t => {
  t.equal(parseHeapSize('1g'), 1024)
  t.equal(parseHeapSize('2G'), 2048)
  t.equal(parseHeapSize('768m'), 768)
  t.equal(parseHeapSize('1536M'), 1536)
  t.equal(parseHeapSize('262144k'), 256)
  t.equal(parseHeapSize(DEFAULT_BROKER_HEAP), 1024)
})

t.test('refused: no unit, fractions, too small, too large', async t => {
  for (const bad of ['1024', '1.5g', '', 'g', '1t', '-1g', '1 g', '100m', '65g']) {
    t.throws(() => parseHeapSize(bad), { code: 'KPROXY_ERR_SANDBOX_OPTIONS' }, bad)
  }
})

t.test('the heap starts at 256 MiB (or the maximum if smaller) and grows up to the maximum', async t => {
  t.same(heapArgs(1024), ['-Xms256m', '-Xmx1024m'])
  t.same(heapArgs(192), ['-Xms192m', '-Xmx192m'])
})
