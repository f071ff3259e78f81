// Reading, checking and watching PEM files, and the start-up check of a whole configuration.
import t from 'tap'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { readPem, watchPemFiles } from '../../src/net/tls-files.ts'
import { checkTlsFiles } from '../../src/net/check-tls-files.ts'

t.test('a file replaced by rename is seen by the watcher', async t => {
  const dir = t.testdir()
  const path = join(dir, 'x.crt')
  writeFileSync(path, '-----BEGIN CERTIFICATE-----\n1\n')
  t.equal(readPem({ setting: 's', path }).toString().slice(0, 10), '-----BEGIN')
  let changes = 0
  const stop = watchPemFiles([{ setting: 's', path }, { setting: 't', path }], () => { changes++ })
  t.teardown(stop)
  await new Promise(resolve => setTimeout(resolve, 1200))
  t.equal(changes, 0, 'no change, no call')
  writeFileSync(`${path}.new`, '-----BEGIN CERTIFICATE-----\n22\n')
  renameSync(`${path}.new`, path)
  const deadline = Date.now() + 5000
  while (changes === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(changes, 1, 'one call for one change (the path is watched once)')
})

t.test('checkTlsFiles reads every file a configuration names', async t => {
  const dir = t.testdir()
  const ca = await createCa({ days: 1 })
  const leaf = await issueCertificate(ca, { name: 'p', server: true, client: true, days: 1 })
  writeFileSync(join(dir, 'ca.crt'), ca.cert)
  writeFileSync(join(dir, 'p.crt'), leaf.chain)
  writeFileSync(join(dir, 'p.key'), leaf.key)
  const ok = resolveConfig({ flags: { upstream: 'h:1', 'tls-cert': join(dir, 'p.crt'), 'tls-key': join(dir, 'p.key'), 'tls-ca': join(dir, 'ca.crt'), 'upstream-tls-ca': join(dir, 'ca.crt'), 'upstream-tls-cert': join(dir, 'p.crt'), 'upstream-tls-key': join(dir, 'p.key') } })
  t.doesNotThrow(() => checkTlsFiles(ok.brokerMode))
  const badUpstream = resolveConfig({ flags: { upstream: 'h:1', 'upstream-tls-ca': join(dir, 'nope.crt') } })
  t.throws(() => checkTlsFiles(badUpstream.brokerMode), { code: 'KPROXY_ERR_TLS_FILE', message: /brokerMode\.upstreamTls\.ca: cannot read/ })
  const badCa = resolveConfig({ flags: { upstream: 'h:1', 'tls-cert': join(dir, 'p.crt'), 'tls-key': join(dir, 'p.key'), 'tls-ca': join(dir, 'p.key') } })
  t.doesNotThrow(() => checkTlsFiles(resolveConfig({ flags: { upstream: 'h:1' } }).brokerMode), 'no TLS, nothing to read')
  t.throws(() => checkTlsFiles(badCa.brokerMode), { code: 'KPROXY_ERR_TLS_FILE', message: /brokerMode\.tls\.ca: .* holds no certificate/ }, 'a key given as the CA')
  const swapped = resolveConfig({ flags: { upstream: 'h:1', 'tls-cert': join(dir, 'p.key'), 'tls-key': join(dir, 'p.crt') } })
  t.throws(() => checkTlsFiles(swapped.brokerMode), { code: 'KPROXY_ERR_TLS_FILE', message: /brokerMode\.tls\.cert: .* holds no certificate/ }, 'cert and key swapped')
})
