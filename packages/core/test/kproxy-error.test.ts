import t from 'tap'
import { KproxyError, isKproxyError } from '../src/kproxy-error.ts'

t.test('a KproxyError carries its code and is recognised by code', async t => {
  const err = new KproxyError('KPROXY_ERR_TEST', 'something went wrong')
  t.equal(err.code, 'KPROXY_ERR_TEST')
  t.ok(isKproxyError(err))
  t.ok(isKproxyError(err, 'KPROXY_ERR_TEST'))
  t.notOk(isKproxyError(err, 'KPROXY_ERR_OTHER'))
  t.notOk(isKproxyError(new Error('plain')))
})
