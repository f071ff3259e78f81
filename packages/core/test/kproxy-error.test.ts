import t from 'tap'
import { KproxyError, isKproxyError } from '../src/kproxy-error.ts'

t.test('a KproxyError carries its code and is recognised by code', async t => {
  const err = new KproxyError('KPROXY_ERR_CONFIG', 'something went wrong')
  t.equal(err.code, 'KPROXY_ERR_CONFIG')
  t.ok(isKproxyError(err))
  t.ok(isKproxyError(err, 'KPROXY_ERR_CONFIG'))
  t.notOk(isKproxyError(err, 'KPROXY_ERR_USAGE'))
  t.notOk(isKproxyError(new Error('plain')))
})

t.test('only registered codes type check', async t => {
  // @ts-expect-error KPROXY_ERR_NOT_REGISTERED is not in errors/error-codes.ts
  const err = new KproxyError('KPROXY_ERR_NOT_REGISTERED', 'x')
  t.equal(err.code, 'KPROXY_ERR_NOT_REGISTERED', 'at run time the code is kept as given')
})
