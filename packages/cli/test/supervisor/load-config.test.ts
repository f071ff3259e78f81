// The stats section and the admin token in a real config file, through loadConfig: validated by
// the schema with the file, line and column in every message, put on the resolved config.
import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/supervisor/load-config.ts'
import { statsOf } from '@kproxy/core/metrics/stats-config'
import { redactSecrets } from '@kproxy/core/config/redact'
import { resolveAdminToken } from '../../src/admin/admin-access.ts'

const dir = mkdtempSync(join(tmpdir(), 'kproxy-ops-'))
function file (name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

t.test('stats and admin.token from the file', async t => {
  const path = file('ok.yaml', `brokerMode:
  upstream: [127.0.0.1:9092]
admin:
  listen: 127.0.0.1:9901
  token: 0123456789abcdef0123
stats:
  flows: true
  inclusionRegexps: [kproxy_requests_total, "kproxy_flow_.*"]
  labels:
    clientId: true
  maxLabelValues: 20
`)
  const config = loadConfig(path)
  t.same(config.admin, { host: '127.0.0.1', port: 9901, token: '0123456789abcdef0123' })
  t.equal(resolveAdminToken(config, {}), '0123456789abcdef0123')
  t.match(statsOf(config), { flows: true, inclusionRegexps: ['kproxy_requests_total', 'kproxy_flow_.*'], labels: { clientId: true, topic: false }, maxLabelValues: 20, maxFlows: 1000 })
  t.match(redactSecrets(config), { admin: { token: '[redacted]' } }, '/config_dump does not show the token')
  t.same(structuredClone(config), config, 'still crosses to the workers')
})

t.test('the schema\'s forms are untouched', async t => {
  const config = loadConfig(file('plain.yaml', 'brokerMode:\n  upstream: [127.0.0.1:9092]\nadmin: 127.0.0.1:9901\n'))
  t.same(config.admin, { host: '127.0.0.1', port: 9901, token: null })
  t.same(statsOf(config).flows, false)
  t.equal(resolveAdminToken(config, { KPROXY_ADMIN_TOKEN: 'from-the-environment-1' }), 'from-the-environment-1')
  t.equal(resolveAdminToken(config, {}), null)
  t.throws(() => resolveAdminToken(config, { KPROXY_ADMIN_TOKEN: 'short' }), { code: 'KPROXY_ERR_ADMIN_TOKEN', message: /KPROXY_ADMIN_TOKEN cannot be used: it has 5 characters; use at least 16/ })
})

t.test('every problem, naming the file', async t => {
  const path = file('bad.yaml', `brokerMode:
  upstream: [127.0.0.1:9092]
admin:
  listen: 9901
  token: short
  tls: true
stats:
  flows: 1
  exclusionRegexps: ["("]
`)
  let err: Error & { code?: string } = new Error('loadConfig did not throw')
  try { loadConfig(path) } catch (e) { err = e as Error & { code?: string } }
  {
    t.equal(err.code, 'KPROXY_ERR_CONFIG')
    t.match(err.message, /^5 configuration errors:/)
    for (const m of [`${path}:8:10: stats.flows: got number 1, allowed: true or false`, `${path}:9:21: stats.exclusionRegexps: '(' is not a valid regular expression`,
      `${path}:6:3: admin.tls: unknown key; allowed keys here: listen, token`, `${path}:4:11: admin.listen: got number 9901, allowed: HOST:PORT`,
      `${path}:5:10: admin.token: it has 5 characters; use at least 16`]) t.ok(err.message.includes(m), m)
  }
})

t.test('admin as a bare port means loopback', async t => {
  const config = loadConfig(file('port.yaml', 'brokerMode:\n  upstream: [127.0.0.1:9092]\nadmin: 9901\n'))
  t.same(config.admin, { host: '127.0.0.1', port: 9901, token: null })
})
