import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig } from '../../../src/config/resolve-config.ts'
import { parseConfigFile } from '../../../src/config/config-file.ts'
import { errorsOf } from '../errors-of.ts'

const SEED = {
  listen: '127.0.0.1:29092',
  clusters: [
    { name: 'one', bootstrap: ['127.0.0.1:9092'] },
    { name: 'two', bootstrap: '127.0.0.1:9093,127.0.0.1:9094' },
    { name: 'three', bootstrap: ['127.0.0.1:9095'], tls: { ca: '/etc/ca.pem' } }
  ],
  routes: [
    { prefix: 'a', cluster: 'one' },
    { prefix: 'b', cluster: 'two', rename: 'fruit.b' },
    { exact: 'cherries', cluster: 'three' }
  ]
}

t.test('the seed example resolves', async t => {
  const c = resolveConfig({ source: '/etc/mesh.yaml', file: { mesh: SEED } })
  const m = c.mesh!
  t.same(m.listen, { host: '127.0.0.1', port: 29092 })
  t.same(m.clusters.map(x => [x.name, x.bootstrap.map(b => b.port), x.tls?.ca ?? null]), [['one', [9092], null], ['two', [9093, 9094], null], ['three', [9095], '/etc/ca.pem']])
  t.same(m.routes, [
    { kind: 'prefix', match: 'a', cluster: 'one', rename: null },
    { kind: 'prefix', match: 'b', cluster: 'two', rename: 'fruit.b' },
    { kind: 'exact', match: 'cherries', cluster: 'three', rename: null }
  ])
  t.equal(m.defaultCluster, null)
  t.equal(m.homeDefaultCluster, 'one', 'groups default to the first cluster when there is no default cluster')
  t.equal(m.nodeId, 0)
  t.equal(m.fetchMaxWaitMs, 30000)
})

t.test('mesh and brokerMode are exclusive', async t => {
  t.match(errorsOf(() => resolveConfig({ file: { mesh: SEED, brokerMode: { upstream: ['h:1'] } } })).join('\n'), /brokerMode and mesh are exclusive/)
})

t.test('mesh needs no brokerMode.upstream; broker mode still does', async t => {
  t.doesNotThrow(() => resolveConfig({ file: { mesh: SEED } }))
  t.match(errorsOf(() => resolveConfig({ file: {} })).join('\n'), /brokerMode.upstream is required/)
})

t.test('cross-key errors name the key with line and column', async t => {
  const yaml = `mesh:
  clusters:
    - name: one
      bootstrap: [h:1]
    - name: one
      bootstrap: [h:2]
  defaultCluster: nine
  routes:
    - prefix: apples
      cluster: one
    - prefix: app
      cluster: one
    - exact: berries
      prefix: b
      cluster: one
    - regex: '^c.*$'
      cluster: two
    - regex: '^d'
      cluster: one
      rename: x
  groups:
    - prefix: g
      cluster: zz
`
  const parsed = parseConfigFile(yaml, '/m.yaml')
  const errors = errorsOf(() => resolveConfig({ source: '/m.yaml', file: parsed.value, locate: parsed.locate })).join('\n')
  t.match(errors, /\/m\.yaml:5:\d+: mesh\.clusters\[1\]\.name: 'one' is used by another cluster/)
  t.match(errors, /mesh\.defaultCluster: cluster 'nine' is not in mesh\.clusters; allowed: one/)
  t.match(errors, /mesh\.routes\[1\]: overlaps rule 0 \(prefix 'apples'\)/)
  t.match(errors, /mesh\.routes\[2\]: set exactly one of prefix, exact, regex; got prefix and exact/)
  t.match(errors, /mesh\.routes\[3\]\.cluster: cluster 'two' is not in mesh\.clusters/)
  t.match(errors, /mesh\.routes\[4\]\.rename: a regex rule cannot rename/)
  t.match(errors, /mesh\.groups\[0\]\.cluster: cluster 'zz'/)
})

t.test('rename collisions', async t => {
  const clusters = [{ name: 'one', bootstrap: ['h:1'] }, { name: 'two', bootstrap: ['h:2'] }]
  // apples -> fruit.apples and fruit. -> (same) on one cluster: two client names, one topic
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { clusters, routes: [{ prefix: 'apples', cluster: 'one', rename: 'fruit.apples' }, { prefix: 'fruit.', cluster: 'one' }] } } })).join('\n'),
    /mesh\.routes\[1\]: its upstream names \(prefix 'fruit\.'\) collide with those of rule 0/)
  // a rename into the default cluster's namespace with nothing routing that namespace
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { clusters, defaultCluster: 'one', routes: [{ prefix: 'apples', cluster: 'one', rename: 'fruit.apples' }] } } })).join('\n'),
    /renames into prefix 'fruit\.apples' on the default cluster one/)
  // the same rename onto another cluster is fine
  t.doesNotThrow(() => resolveConfig({ file: { mesh: { clusters, defaultCluster: 'one', routes: [{ prefix: 'apples', cluster: 'two', rename: 'fruit.apples' }] } } }))
})

t.test('schema errors: unknown keys, bad addresses, missing clusters', async t => {
  const errors = errorsOf(() => resolveConfig({ file: { mesh: { clusters: [{ name: 'one', bootstrap: ['nope'] }, { bootstrap: ['h:1'] }], routes: [{ prefix: 'a', cluster: 'one', colour: 'red' }] } } })).join('\n')
  t.match(errors, /mesh\.clusters\[0\]\.bootstrap/)
  t.match(errors, /mesh\.clusters\[1\]\.name is required/)
  t.match(errors, /mesh\.routes\[0\]\.colour: unknown key/)
  t.match(errorsOf(() => resolveConfig({ file: { mesh: {} } })).join('\n'), /mesh\.clusters is required/)
})

t.test("a cluster's SASL login: mechanisms and password sources as policy.sasl.upstream; a relative file is the config file's", async t => {
  const c = resolveConfig({
    source: '/etc/kproxy/mesh.yaml',
    file: {
      mesh: {
        clusters: [
          { name: 'one', bootstrap: ['h:1'], sasl: { mechanism: 'SCRAM-SHA-512', username: 'kproxy', passwordFile: 'one.pw' } },
          { name: 'two', bootstrap: ['h:2'], tls: { ca: '/ca.pem' }, sasl: { mechanism: 'PLAIN', username: 'k', passwordEnv: 'TWO_PW' } },
          { name: 'three', bootstrap: ['h:3'] }
        ]
      }
    }
  })
  t.same(c.mesh!.clusters.map(x => x.sasl), [
    { mechanism: 'SCRAM-SHA-512', username: 'kproxy', passwordFile: '/etc/kproxy/one.pw', passwordEnv: null },
    { mechanism: 'PLAIN', username: 'k', passwordFile: null, passwordEnv: 'TWO_PW' },
    null
  ])
  t.equal(c.mesh!.clusters[1]!.tls?.ca, '/ca.pem', 'TLS and SASL together (SASL_SSL)')
})

t.test('bad SASL settings of a cluster are errors at their key, with line and column', async t => {
  const yaml = `mesh:
  clusters:
    - name: one
      bootstrap: [h:1]
      sasl:
        mechanism: GSSAPI
        username: kproxy
        passwordFile: one.pw
    - name: two
      bootstrap: [h:2]
      sasl:
        mechanism: PLAIN
        username: kproxy
        passwordFile: two.pw
        passwordEnv: TWO_PW
    - name: three
      bootstrap: [h:3]
      sasl:
        mechanism: PLAIN
        username: kproxy
    - name: four
      bootstrap: [h:4]
      sasl:
        mechanism: SCRAM-SHA-256
        username: kproxy
        password: hunter2
    - name: five
      bootstrap: [h:5]
      sasl:
        mechanism: PLAIN
        passwordEnv: 'not a name'
`
  const parsed = parseConfigFile(yaml, '/m.yaml')
  const errors = errorsOf(() => resolveConfig({ source: '/m.yaml', file: parsed.value, locate: parsed.locate })).join('\n')
  t.match(errors, /\/m\.yaml:6:\d+: mesh\.clusters\[0\]\.sasl\.mechanism: got string "GSSAPI", allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/)
  t.match(errors, /\/m\.yaml:12:\d+: mesh\.clusters\[1\]\.sasl: give exactly one of passwordFile and passwordEnv/)
  t.match(errors, /\/m\.yaml:19:\d+: mesh\.clusters\[2\]\.sasl: give exactly one of passwordFile and passwordEnv/)
  t.match(errors, /\/m\.yaml:26:\d+: mesh\.clusters\[3\]\.sasl\.password: unknown key; allowed keys here: mechanism, username, passwordFile, passwordEnv/)
  t.match(errors, /mesh\.clusters\[4\]\.sasl\.username is required/)
  t.match(errors, /mesh\.clusters\[4\]\.sasl\.passwordEnv: got string "not a name", allowed: an environment variable name/)
  t.notMatch(errors, /hunter2/, 'the refused password is not echoed')
})

t.test('the policy section in mesh mode: SASL termination, ACLs and quotas accepted; kproxy\'s own upstream login and upstreamIdentity certificate refused with the key', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-mesh-policy-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'users.yaml'), 'version: 1\nusers: {}\n')
  const policy = {
    sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-512'], credentialsFile: 'users.yaml' },
    acl: { defaultDecision: 'deny', rules: [{ allow: ['Write'], principal: 'User:alice', topic: 'apples' }] },
    quotas: { entities: [{ user: 'alice', requestsPerSecond: 10 }] }
  }
  const c = resolveConfig({ source: join(dir, 'mesh.yaml'), file: { mesh: SEED, policy } })
  t.ok(c.mesh)
  t.same(c.policy.file, policy)
  t.equal(c.policy.baseDir, dir)

  const upstream = errorsOf(() => resolveConfig({ source: join(dir, 'mesh.yaml'), file: { mesh: SEED, policy: { sasl: { ...policy.sasl, upstream: { mechanism: 'PLAIN', username: 'kproxy', passwordEnv: 'PW' } } } } })).join('\n')
  t.match(upstream, /policy\.sasl\.upstream: not available in mesh mode/)
  const identity = errorsOf(() => resolveConfig({ source: join(dir, 'mesh.yaml'), file: { mesh: SEED, policy: { upstreamIdentity: { mode: 'certificate', caDir: 'ca' } } } })).join('\n')
  t.match(identity, /policy\.upstreamIdentity\.mode: certificate is not available in mesh mode/)
  t.doesNotThrow(() => resolveConfig({ file: { brokerMode: { upstream: ['h:1'] }, policy: { sasl: { ...policy.sasl, upstream: { mechanism: 'PLAIN', username: 'kproxy', passwordEnv: 'PW' } } } }, source: join(dir, 'k.yaml') }), 'broker mode keeps policy.sasl.upstream')
})

t.test('mesh.tls: TLS toward clients, as brokerMode.tls (mode live), its cross-key rules at mesh.tls', async t => {
  const c = resolveConfig({ file: { mesh: { ...SEED, tls: { cert: '/etc/kproxy/cert.pem', key: '/etc/kproxy/key.pem', mode: 'permissive' } } } })
  t.match(c.mesh!.tls, { cert: '/etc/kproxy/cert.pem', key: '/etc/kproxy/key.pem', mode: 'permissive', clientAuth: 'none', minVersion: 'TLSv1.2' })
  t.equal(resolveConfig({ file: { mesh: SEED } }).mesh!.tls, null, 'absent: plaintext')
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { ...SEED, tls: { cert: '/c.pem' } } } })).join('\n'), /mesh\.tls: set both cert and key to enable TLS; got no key/)
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { ...SEED, tls: { cert: '/c.pem', key: '/k.pem', clientAuth: 'require' } } } })).join('\n'), /mesh\.tls\.clientAuth: require needs mesh\.tls\.ca/)
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { ...SEED, tls: { cert: '/c.pem', key: '/k.pem', mode: 'lax' } } } })).join('\n'), /mesh\.tls\.mode/)
})

t.test('mesh.producerIdLog: on by default on the default home cluster\'s topic; off resolves to null; a bad topic name is refused', async t => {
  t.same(resolveConfig({ file: { mesh: SEED } }).mesh!.producerIdLog, { topic: '__kproxy_producer_ids', retentionMs: 604_800_000, replicationFactor: -1 })
  t.same(resolveConfig({ file: { mesh: { ...SEED, producerIdLog: { topic: 'ops.pids', retentionMs: 7_200_000, replicationFactor: 3 } } } }).mesh!.producerIdLog, { topic: 'ops.pids', retentionMs: 7_200_000, replicationFactor: 3 })
  t.equal(resolveConfig({ file: { mesh: { ...SEED, producerIdLog: { enabled: false } } } }).mesh!.producerIdLog, null)
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { ...SEED, producerIdLog: { topic: 'no spaces' } } } })).join('\n'), /mesh\.producerIdLog\.topic/)
  t.match(errorsOf(() => resolveConfig({ file: { mesh: { ...SEED, producerIdLog: { retentionMs: 1000 } } } })).join('\n'), /mesh\.producerIdLog\.retentionMs/)
})
