import t from 'tap'
import { isKproxyError } from '@kproxy/core'
import { MAX_DAYS, parseDays, parseKeySize, parseNames, sansFor, splitList } from '../../src/certs/options.ts'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isKproxyError(err) ? err.code : `not a KproxyError: ${String(err)}`
  }
  return undefined
}

t.test('days: whole numbers from 1 to MAX_DAYS', async t => {
  t.equal(parseDays(undefined), undefined)
  t.equal(parseDays('1'), 1)
  t.equal(parseDays(' 30 '), 30)
  t.equal(parseDays(String(MAX_DAYS)), MAX_DAYS)
  for (const bad of ['0', '-1', '1.5', 'abc', '', '1e3', String(MAX_DAYS + 1), '99999999999999999999']) {
    t.equal(code(() => parseDays(bad)), 'KPROXY_ERR_CERTS_DAYS', `'${bad}'`)
  }
})

t.test('key size: 2048, 3072 or 4096', async t => {
  t.equal(parseKeySize(undefined), undefined)
  t.equal(parseKeySize('2048'), 2048)
  t.equal(parseKeySize('3072'), 3072)
  t.equal(parseKeySize('4096'), 4096)
  for (const bad of ['1024', '2047', '8192', 'big', '', '2048.0']) {
    t.equal(code(() => parseKeySize(bad)), 'KPROXY_ERR_CERTS_KEY_SIZE', `'${bad}'`)
  }
})

t.test('lists: repeated flags and commas mean the same', async t => {
  t.same(splitList(['a,b', ' c ']), ['a', 'b', 'c'])
  t.same(parseNames(['broker-1,broker-2', 'client.app_1']), ['broker-1', 'broker-2', 'client.app_1'])
})

t.test('names must be file-safe, unique and not "ca"', async t => {
  for (const bad of [['../x'], ['a/b'], [''], ['a,,b'], ['.hidden'], ['-x'], ['ca'], ['a', 'a'], ['x'.repeat(65)]]) {
    t.equal(code(() => parseNames(bad)), 'KPROXY_ERR_CERTS_NAME', JSON.stringify(bad))
  }
})

t.test('SANs: {name} is replaced, every entry is checked', async t => {
  t.same(sansFor(['DNS:{name}.kafka.local', 'IP:127.0.0.1'], 'broker-1'), ['DNS:broker-1.kafka.local', 'IP:127.0.0.1'])
  t.same(sansFor([], 'x'), [])
  t.same(sansFor(['URI:spiffe://mesh.local/ns/{name}/sa/app'], 'pay'), ['URI:spiffe://mesh.local/ns/pay/sa/app'], 'URI SANs (e.g. SPIFFE ids) pass')
  for (const bad of [['localhost'], ['DNS:'], ['DNS:a..b'], ['IP:300.1.1.1'], ['URI:x'], ['email:a@b'], ['']]) {
    t.equal(code(() => sansFor(bad, 'x')), 'KPROXY_ERR_CERTS_SAN', JSON.stringify(bad))
  }
  // A name that is fine as a file name but not as a DNS label.
  t.equal(code(() => sansFor(['DNS:{name}.local'], 'a_b')), 'KPROXY_ERR_CERTS_SAN')
})
