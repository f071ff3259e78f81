import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CONFIG_FLAGS, configKeyTable, resolveConfig } from '../../src/config/config-schema.ts'
import { parseConfigFile } from '../../src/config/config-file.ts'
import { applyLiveChanges } from '../../src/config/live-reload.ts'
import { redactSecrets, REDACTED } from '../../src/config/redact.ts'
import { parseHostPort } from '../../src/config/host-port.ts'
import { NO_POLICY, policyOf } from '../../src/config/schema/policy-schema.ts'
import { errorsOf } from './errors-of.ts'

t.test('defaults from flags only', async t => {
  const c = resolveConfig({ flags: { upstream: '127.0.0.1:9092' } })
  t.same(c, {
    source: null,
    brokerMode: {
      listen: { host: '127.0.0.1', port: 19092 },
      advertisedHost: '127.0.0.1',
      upstream: [{ host: '127.0.0.1', port: 9092 }],
      brokerPorts: { kind: 'offset', base: 19093 },
      apiKeysAllowed: [],
      apiKeysDenied: [],
      maxFrameSize: 100 * 1024 * 1024,
      upstreamConnectTimeoutMs: 10000,
      filters: [],
      filterHoldTimeoutMs: 30000,
      bootstrapAnswerTimeoutMs: 1000,
      versionBridge: { enabled: false, maxUncompressedBytes: 100 * 1024 * 1024 },
      tls: null,
      upstreamTls: null,
      sni: null
    },
    mesh: null,
    workers: 1,
    youngGenerationMb: 8,
    admin: null,
    shutdownTimeoutMs: 10000,
    logLevel: 'info',
    statPrefix: 'kproxy',
    stats: { flows: false, inclusionRegexps: [], exclusionRegexps: [], labels: { principal: false, clientId: false, topic: false, clientSoftware: false }, maxLabelValues: 100, maxFlows: 1000 },
    policy: NO_POLICY
  })
})

t.test('the policy section: checked by the policy rules, reported at the subsection', async t => {
  const { value: file, locate } = parseConfigFile(`
brokerMode:
  upstream: 127.0.0.1:9092
policy:
  acl:
    rules:
      - { allow: [Write, Frobnicate], principal: 'User:alice', topic: t }
  quotas: 7
`, 'k.yaml')
  const err = t.throws(() => resolveConfig({ source: '/etc/kproxy/k.yaml', file, locate })) as Error & { errors: string[] }
  t.match(err.errors.join('\n'), /k\.yaml:\d+:\d+: policy\.acl\.rules\[0\]\.allow\[1\]: .*Frobnicate/)
  t.match(err.errors.join('\n'), /policy\.quotas: expected a mapping, got 7/)
  const ok = resolveConfig({ source: '/etc/kproxy/k.yaml', file: { brokerMode: { upstream: '127.0.0.1:9092' }, policy: { acl: { defaultDecision: 'allow', rules: [{ deny: ['Write'], principal: 'User:bob', topic: 't', partitions: '0-3' }] } } } })
  t.same(structuredClone(ok.policy), ok.policy, 'plain data: it can be posted to the workers')
  const rules = policyOf(ok.policy)
  t.equal(rules.acl?.defaultDecision, 'allow')
  t.equal(rules.sasl, null)
  t.equal(policyOf(ok.policy), rules, 'resolved once per section')
})

t.test('a full file, with flags overlaying it', async t => {
  const { value: file } = parseConfigFile(`
workers: 4
admin: 127.0.0.1:9901
logLevel: debug
statPrefix: edge
brokerMode:
  listen: 0.0.0.0:29092
  advertisedHost: kafka.example.com
  upstream: [10.0.0.1:9092, "[::1]:9093"]
  brokerPorts:
    ports:
      1: 30001
      2: 30002
  apiKeysDenied: [Produce, 19]
  maxFrameSize: 1048576
`, '/etc/kproxy.yaml')
  const c = resolveConfig({ source: '/etc/kproxy.yaml', file, flags: { workers: '2', listen: '127.0.0.1:39092', 'advertised-host': 'localhost' } })
  t.equal(c.workers, 2, 'flag wins over file')
  t.same(c.brokerMode.listen, { host: '127.0.0.1', port: 39092 })
  t.equal(c.brokerMode.advertisedHost, 'localhost')
  t.same(c.admin, { host: '127.0.0.1', port: 9901, token: null })
  t.same(c.brokerMode.upstream, [{ host: '10.0.0.1', port: 9092 }, { host: '::1', port: 9093 }])
  t.same(c.brokerMode.brokerPorts, { kind: 'explicit', ports: { 1: 30001, 2: 30002 } })
  t.same(c.brokerMode.apiKeysDenied, [0, 19])
  t.equal(c.brokerMode.maxFrameSize, 1048576)
  t.equal(c.logLevel, 'debug')
  t.equal(c.statPrefix, 'edge')
  t.equal(c.source, '/etc/kproxy.yaml')
})

t.test('comma-separated upstream and broker port base flag', async t => {
  const c = resolveConfig({ flags: { upstream: '127.0.0.1:9092, localhost:9093', 'broker-port-base': '40000' } })
  t.same(c.brokerMode.upstream.map(u => u.port), [9092, 9093])
  t.same(c.brokerMode.brokerPorts, { kind: 'offset', base: 40000 })
})

t.test('collects every error, naming file, key path and what is allowed', async t => {
  const parsed = parseConfigFile(`
workers: 0
colour: blue
logLevel: loud
brokerMode:
  listen: nohost
  upstream: [127.0.0.1:99999]
  brokerPorts:
    base: 70000
    bogus: 1
  apiKeysDenied: [NoSuchApi]
  maxFrameSize: 12
`, 'k.yaml')
  const errors = errorsOf(() => resolveConfig({ source: 'k.yaml', file: parsed.value, locate: parsed.locate }))
  const expect: RegExp[] = [
    /^k\.yaml:2:10: workers: got number 0, allowed: an integer from 1 to 256$/,
    /^k\.yaml:3:1: colour: unknown key; allowed keys here: workers, admin, /,
    /^k\.yaml:4:11: logLevel: got string "loud", allowed: fatal, error, warn, info, debug, trace$/,
    /^k\.yaml:6:11: brokerMode\.listen: expected HOST:PORT; got string "nohost", allowed: HOST:PORT$/,
    /^k\.yaml:7:13: brokerMode\.upstream: '127\.0\.0\.1:99999': port 99999 is outside 1\.\.65535/,
    /^k\.yaml:9:11: brokerMode\.brokerPorts\.base: got number 70000, allowed: an integer from 1 to 65535$/,
    /^k\.yaml:10:5: brokerMode\.brokerPorts\.bogus: unknown key; allowed keys here: base, ports$/,
    /^k\.yaml:11:18: brokerMode\.apiKeysDenied: 'NoSuchApi' is not a Kafka API key/,
    /^k\.yaml:12:17: brokerMode\.maxFrameSize: got number 12, allowed: an integer from 1024 to 2147483647$/
  ]
  t.equal(errors.length, expect.length, errors.join('\n'))
  for (const re of expect) t.ok(errors.some(e => re.test(e)), String(re))
  t.match(errorsOf(() => resolveConfig({ source: 'k.yaml', file: {} })).join('\n'), /^k\.yaml: brokerMode\.upstream is required/)
})

t.test('bad flags name the flag and key', async t => {
  const errors = errorsOf(() => resolveConfig({ flags: { upstream: 'x', workers: 'two', listen: '127.0.0.1:19092' } }))
  t.ok(errors.some(e => /^--upstream \(brokerMode\.upstream\): 'x': expected HOST:PORT/.test(e)), errors.join('\n'))
  t.ok(errors.some(e => /^--workers \(workers\): got 'two', allowed: an integer from 1 to 256$/.test(e)), errors.join('\n'))
})

t.test('cross-field checks', async t => {
  t.match(errorsOf(() => resolveConfig({ flags: { upstream: 'h:1', listen: '0.0.0.0:9000' } })).join('\n'), /advertisedHost is required/)
  t.match(errorsOf(() => resolveConfig({ flags: { upstream: 'h:1', listen: '127.0.0.1:9000', 'broker-port-base': '9000' } })).join('\n'), /brokerPorts\.base: 9000 is the listen port/)
  t.match(errorsOf(() => resolveConfig({ flags: { upstream: 'h:1', listen: '127.0.0.1:9000', admin: '127.0.0.1:9000' } })).join('\n'), /admin: 127\.0\.0\.1:9000 uses the listen port/)
  t.match(errorsOf(() => resolveConfig({ file: { brokerMode: { upstream: ['h:1'], brokerPorts: { base: 1, ports: { 1: 2 } } } } })).join('\n'), /set either base or ports/)
  t.match(errorsOf(() => resolveConfig({ file: [1, 2] })).join('\n'), /the document must be a mapping/)
})

t.test('host:port parsing', async t => {
  t.same(parseHostPort('[::1]:9092'), { host: '::1', port: 9092 })
  t.same(parseHostPort('my-host.local:1'), { host: 'my-host.local', port: 1 })
  t.match(parseHostPort('::1:9092'), /needs brackets/)
  t.match(parseHostPort('host:0'), /outside/)
  t.match(parseHostPort(':9092'), /not a valid host/)
  t.match(parseHostPort('host:abc'), /not a port/)
})

t.test('every flag of `kproxy serve` maps to a key', async t => {
  t.same(Object.fromEntries(CONFIG_FLAGS), {
    workers: 'workers',
    'young-generation-mb': 'youngGenerationMb',
    admin: 'admin',
    'log-level': 'logLevel',
    listen: 'brokerMode.listen',
    'advertised-host': 'brokerMode.advertisedHost',
    upstream: 'brokerMode.upstream',
    'broker-port-base': 'brokerMode.brokerPorts.base',
    'tls-cert': 'brokerMode.tls.cert',
    'tls-key': 'brokerMode.tls.key',
    'tls-ca': 'brokerMode.tls.ca',
    'tls-client-auth': 'brokerMode.tls.clientAuth',
    'tls-mode': 'brokerMode.tls.mode',
    'upstream-tls': 'brokerMode.upstreamTls.enabled',
    'upstream-tls-ca': 'brokerMode.upstreamTls.ca',
    'upstream-tls-cert': 'brokerMode.upstreamTls.cert',
    'upstream-tls-key': 'brokerMode.upstreamTls.key',
    'upstream-tls-server-name': 'brokerMode.upstreamTls.serverName',
    'version-bridge': 'brokerMode.versionBridge.enabled',
    'sni-bootstrap-name': 'brokerMode.sni.bootstrapName',
    'sni-broker-pattern': 'brokerMode.sni.brokerNamePattern'
  })
})

t.test('TLS settings: defaults, implied modes and cross-key errors', async t => {
  const up = { upstream: 'h:1' }
  const c = resolveConfig({ flags: { ...up, 'tls-cert': 'c.pem', 'tls-key': 'k.pem', 'tls-ca': 'ca.pem' } })
  t.same(c.brokerMode.tls, {
    mode: 'strict',
    cert: 'c.pem',
    key: 'k.pem',
    ca: 'ca.pem',
    clientAuth: 'require',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: null,
    principalMappingRules: ['DEFAULT'],
    handshakeTimeoutMs: 10000
  }, 'a CA implies client auth require')
  t.equal(resolveConfig({ flags: { ...up, 'tls-cert': 'c', 'tls-key': 'k', 'tls-mode': 'permissive' } }).brokerMode.tls?.mode, 'permissive')
  t.throws(() => resolveConfig({ flags: { ...up, 'tls-cert': 'c', 'tls-key': 'k', 'tls-mode': 'permissive', 'sni-bootstrap-name': 'kafka.example.com' } }), /brokerMode\.tls\.mode: permissive cannot be used with brokerMode\.sni/)
  t.equal(resolveConfig({ flags: { ...up, 'tls-cert': 'c', 'tls-key': 'k' } }).brokerMode.tls?.clientAuth, 'none')
  t.same(resolveConfig({ flags: { ...up, 'upstream-tls': 'true' } }).brokerMode.upstreamTls,
    { ca: null, cert: null, key: null, checkHostname: true, serverName: null, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' })
  t.equal(resolveConfig({ flags: { ...up, 'upstream-tls-ca': 'ca' } }).brokerMode.upstreamTls?.ca, 'ca', 'a CA implies upstream TLS')
  t.same(resolveConfig({ flags: { ...up, 'tls-cert': 'c', 'tls-key': 'k', 'sni-bootstrap-name': 'kafka.example.com' } }).brokerMode.sni,
    { bootstrapName: 'kafka.example.com', brokerNamePattern: 'broker-{id}.kafka.example.com', advertisedPort: 19092 })

  const bad: Array<[Record<string, string>, unknown, RegExp]> = [
    [{ 'tls-cert': 'c' }, undefined, /set both cert and key/],
    [{ 'tls-cert': 'c', 'tls-key': 'k', 'tls-client-auth': 'require' }, undefined, /clientAuth: require needs brokerMode\.tls\.ca/],
    [{ 'tls-client-auth': 'sometimes', 'tls-cert': 'c', 'tls-key': 'k' }, undefined, /none, request or require/],
    [{ 'upstream-tls-cert': 'c' }, undefined, /needs both cert and key/],
    [{ 'upstream-tls': 'false', 'upstream-tls-ca': 'x' }, undefined, /enabled is false but ca/],
    [{ 'upstream-tls': 'maybe' }, undefined, /true or false/],
    [{ 'sni-bootstrap-name': 'kafka.example.com' }, undefined, /sni needs TLS/],
    [{ 'tls-cert': 'c', 'tls-key': 'k', 'sni-bootstrap-name': 'bad name!' }, undefined, /a DNS name/],
    [{ 'tls-cert': 'c', 'tls-key': 'k', 'sni-bootstrap-name': 'k.example', 'sni-broker-pattern': 'broker.example' }, undefined, /containing \{id\}/],
    [{}, { brokerMode: { tls: { cert: 'c', key: 'k', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' } } }, /minVersion TLSv1\.3 is above maxVersion/],
    [{}, { brokerMode: { tls: { cert: 'c', key: 'k', principalMappingRules: ['RULE:no-slashes'] } } }, /principalMappingRules/],
    [{}, { brokerMode: { sni: { brokerNamePattern: 'b-{id}.x' } } }, /bootstrapName is required/]
  ]
  for (const [flags, file, re] of bad) {
    t.throws(() => resolveConfig({ flags: { ...up, ...flags }, file, source: file === undefined ? null : 'k.yaml' }), re, `${JSON.stringify(flags)} ${JSON.stringify(file ?? {})}`)
  }
})

t.test('live reload applies only live keys', async t => {
  const a = resolveConfig({ flags: { upstream: 'h:1', workers: '2' } })
  const b = resolveConfig({ flags: { upstream: 'h:2', workers: '3', 'log-level': 'debug' }, file: { brokerMode: { apiKeysDenied: [0] } } })
  const { config, applied, needsRestart } = applyLiveChanges(a, b)
  t.same(applied.sort(), ['brokerMode.apiKeysDenied', 'logLevel'])
  t.same(needsRestart.sort(), ['brokerMode.upstream', 'workers'])
  t.equal(config.logLevel, 'debug')
  t.same(config.brokerMode.apiKeysDenied, [0])
  t.equal(config.workers, 2)
  t.same(config.brokerMode.upstream, [{ host: 'h', port: 1 }])
  t.equal(a.logLevel, 'info', 'the running config is not mutated')
})

t.test('brokerMode.tls.mode is live; the other TLS keys, and turning TLS on, need a restart', async t => {
  const tls = { upstream: 'h:1', 'tls-cert': 'c.pem', 'tls-key': 'k.pem' }
  const permissive = resolveConfig({ flags: { ...tls, 'tls-mode': 'permissive' } })
  const strict = resolveConfig({ flags: { ...tls, 'tls-mode': 'strict' } })
  const moved = applyLiveChanges(permissive, strict)
  t.same(moved.applied, ['brokerMode.tls.mode'])
  t.same(moved.needsRestart, [])
  t.equal(moved.config.brokerMode.tls?.mode, 'strict')
  const otherCert = applyLiveChanges(strict, resolveConfig({ flags: { ...tls, 'tls-cert': 'd.pem' } }))
  t.same(otherCert.needsRestart, ['brokerMode.tls.cert'])
  const on = applyLiveChanges(resolveConfig({ flags: { upstream: 'h:1' } }), permissive)
  t.ok(on.needsRestart.includes('brokerMode.tls.cert'), 'TLS turned on: restart')
  t.equal(on.config.brokerMode.tls, null, 'the running config keeps no TLS (the mode alone is not applied)')
})

t.test('secrets are redacted at any depth, api key lists are not', async t => {
  const r = redactSecrets({ brokerMode: { apiKeysDenied: [0], sasl: { password: 'p', username: 'u' } }, tls: [{ privateKey: 'k', cert: 'c' }], token: null })
  t.same(r, { brokerMode: { apiKeysDenied: [0], sasl: { password: REDACTED, username: 'u' } }, tls: [{ privateKey: REDACTED, cert: 'c' }], token: null })
})

t.test('docs/configuration.md carries the generated key table', async t => {
  const docPath = fileURLToPath(new URL('../../../../docs/configuration.md', import.meta.url))
  const doc = readFileSync(docPath, 'utf8')
  const start = '<!-- config-keys:start (generated from the config schema; KPROXY_UPDATE_DOCS=1 to rewrite) -->\n'
  const end = '<!-- config-keys:end -->'
  const i = doc.indexOf(start)
  const j = doc.indexOf(end)
  t.ok(i >= 0 && j > i, 'markers present')
  const current = doc.slice(i + start.length, j)
  const generated = configKeyTable()
  if (current !== generated && process.env.KPROXY_UPDATE_DOCS === '1') {
    writeFileSync(docPath, doc.slice(0, i + start.length) + generated + doc.slice(j))
    t.comment('docs/configuration.md rewritten')
    return
  }
  t.equal(current, generated, 'key table is stale: run with KPROXY_UPDATE_DOCS=1 to rewrite it')
})
