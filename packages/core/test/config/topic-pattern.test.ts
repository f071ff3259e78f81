import t from 'tap'
import { compileTopicPattern } from '../../src/config/topic-pattern.ts'

t.test('names, globs and regular expressions', async t => {
  const name = compileTopicPattern('orders.v1')
  t.ok(name('orders.v1'))
  t.notOk(name('ordersXv1'), 'a dot in a name is a dot')
  const glob = compileTopicPattern('orders.*')
  t.ok(glob('orders.eu'))
  t.ok(glob('orders.'))
  t.notOk(glob('orders'))
  t.notOk(glob('xorders.eu'), 'anchored at the start')
  t.ok(compileTopicPattern('t-?')('t-1'))
  t.notOk(compileTopicPattern('t-?')('t-10'))
  t.ok(compileTopicPattern('*')('anything'))
  const re = compileTopicPattern('/^test-\\d+$/')
  t.ok(re('test-12'))
  t.notOk(re('test-x'))
  t.ok(compileTopicPattern('/pay/')('my-payments'), 'a regex is not anchored unless it says so')
})
