import t from 'tap'
import { SASL_MECHANISMS, clientSslProperties, formatProperties, nodeLayout, nodeLog4j, scramFormatArgs, serverProperties, tlsLayout } from '../../src/sandbox/node-config.ts'

const nodes3 = [1, 2, 3].map(id => nodeLayout('/sb', id, { port: 9000 + id, controllerPort: 9100 + id, tlsPort: 9200 + id }))

t.test('one node: replication factors 1, PLAINTEXT + CONTROLLER only', async t => {
  const node = nodeLayout('/sb', 1, { port: 9092, controllerPort: 9093 })
  t.equal(node.dataDir, '/sb/node-1/data')
  const p = serverProperties(node, [node], null)
  t.equal(p['process.roles'], 'broker,controller')
  t.equal(p['node.id'], 1)
  t.equal(p['controller.quorum.voters'], '1@127.0.0.1:9093')
  t.equal(p.listeners, 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093')
  t.equal(p['advertised.listeners'], 'PLAINTEXT://127.0.0.1:9092')
  t.equal(p['listener.security.protocol.map'], 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT')
  t.equal(p['inter.broker.listener.name'], 'PLAINTEXT')
  t.equal(p['offsets.topic.replication.factor'], 1)
  t.equal(p['transaction.state.log.replication.factor'], 1)
  t.equal(p['transaction.state.log.min.isr'], 1)
  t.equal(p['group.initial.rebalance.delay.ms'], 0)
  t.equal(p['auto.create.topics.enable'], true)
  t.notOk(Object.keys(p).some(k => k.includes('ssl')))
})

t.test('three nodes with TLS: shared voters, RF 3 / min ISR 2, an mTLS listener with PEM stores', async t => {
  const tls = tlsLayout('/sb')
  const p = serverProperties(nodes3[1]!, nodes3, tls, { 'num.partitions': 4 })
  t.equal(p['node.id'], 2)
  t.equal(p['controller.quorum.voters'], '1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103')
  t.equal(p.listeners, 'PLAINTEXT://127.0.0.1:9002,SSL://127.0.0.1:9202,CONTROLLER://127.0.0.1:9102')
  t.equal(p['advertised.listeners'], 'PLAINTEXT://127.0.0.1:9002,SSL://127.0.0.1:9202')
  t.equal(p['listener.security.protocol.map'], 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL')
  t.equal(p['offsets.topic.replication.factor'], 3)
  t.equal(p['transaction.state.log.replication.factor'], 3)
  t.equal(p['transaction.state.log.min.isr'], 2)
  t.equal(p['listener.name.ssl.ssl.client.auth'], 'required')
  t.equal(p['listener.name.ssl.ssl.keystore.type'], 'PEM')
  t.equal(p['listener.name.ssl.ssl.keystore.location'], '/sb/tls/broker-keystore.pem')
  t.equal(p['listener.name.ssl.ssl.truststore.type'], 'PEM')
  t.equal(p['listener.name.ssl.ssl.truststore.location'], '/sb/tls/ca.pem')
  t.notOk(Object.keys(p).some(k => k.includes('password')), 'PEM stores take no passwords')
  t.equal(p['num.partitions'], 4, 'extra settings apply')
})

t.test('properties are escaped for Java', async t => {
  t.equal(formatProperties({ a: 'x\\y', b: 'line\nbreak', c: ' lead', d: 3, e: false }), 'a=x\\\\y\nb=line\\nbreak\nc=\\ lead\nd=3\ne=false\n')
})

t.test('log4j writes to the node log and keeps the started line', async t => {
  const cfg = nodeLog4j('/sb/node-1/server.log')
  t.match(cfg, /appender\.file\.fileName = \/sb\/node-1\/server\.log/)
  t.match(cfg, /rootLogger\.level = WARN/)
  t.match(cfg, /logger\.raft\.name = kafka\.server\.KafkaRaftServer\nlogger\.raft\.level = INFO/)
})

t.test('client properties for Java tools', async t => {
  t.same(clientSslProperties(tlsLayout('/sb')), {
    'security.protocol': 'SSL',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': '/sb/tls/client-keystore.pem',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': '/sb/tls/ca.pem'
  })
})

t.test('SASL: a SASL_PLAINTEXT listener with PLAIN and SCRAM users; brokers still talk PLAINTEXT', async t => {
  const users = [{ name: 'alice', password: 'alice-secret' }, { name: 'bob', password: 'p"w\\' }]
  const nodes = [1, 2, 3].map(id => nodeLayout('/sb', id, { port: 9000 + id, controllerPort: 9100 + id, saslPort: 9300 + id }))
  const p = serverProperties(nodes[2]!, nodes, null, {}, users)
  t.equal(p.listeners, 'PLAINTEXT://127.0.0.1:9003,SASL_PLAINTEXT://127.0.0.1:9303,CONTROLLER://127.0.0.1:9103')
  t.equal(p['advertised.listeners'], 'PLAINTEXT://127.0.0.1:9003,SASL_PLAINTEXT://127.0.0.1:9303')
  t.equal(p['listener.security.protocol.map'], 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT')
  t.equal(p['inter.broker.listener.name'], 'PLAINTEXT')
  t.equal(p['listener.name.sasl_plaintext.sasl.enabled.mechanisms'], 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512')
  t.equal(p['listener.name.sasl_plaintext.plain.sasl.jaas.config'],
    'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="p\\"w\\\\";')
  t.equal(p['listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config'], 'org.apache.kafka.common.security.scram.ScramLoginModule required;')
  t.same(SASL_MECHANISMS, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
  t.same(scramFormatArgs(users.slice(0, 1)), [
    '--add-scram', 'SCRAM-SHA-256=[name=alice,password=alice-secret]',
    '--add-scram', 'SCRAM-SHA-512=[name=alice,password=alice-secret]'
  ])
  t.notOk(Object.keys(serverProperties(nodes[0]!, nodes, null)).some(k => k.includes('sasl')), 'no SASL unless asked')
})

t.test('SASL and TLS: a SASL_SSL listener too, the same users over TLS, no client certificate asked', async t => {
  const users = [{ name: 'alice', password: 'alice-secret' }]
  const tls = tlsLayout('/sb')
  const nodes = [1].map(id => nodeLayout('/sb', id, { port: 9000 + id, controllerPort: 9100 + id, tlsPort: 9200 + id, saslPort: 9300 + id, saslSslPort: 9400 + id }))
  const p = serverProperties(nodes[0]!, nodes, tls, {}, users)
  t.equal(p.listeners, 'PLAINTEXT://127.0.0.1:9001,SSL://127.0.0.1:9201,SASL_PLAINTEXT://127.0.0.1:9301,SASL_SSL://127.0.0.1:9401,CONTROLLER://127.0.0.1:9101')
  t.equal(p['listener.security.protocol.map'], 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL')
  t.equal(p['inter.broker.listener.name'], 'PLAINTEXT')
  t.equal(p['listener.name.sasl_ssl.sasl.enabled.mechanisms'], 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512')
  t.equal(p['listener.name.sasl_ssl.plain.sasl.jaas.config'], 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";')
  t.equal(p['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'], 'org.apache.kafka.common.security.scram.ScramLoginModule required;')
  t.equal(p['listener.name.sasl_ssl.ssl.client.auth'], 'none')
  t.equal(p['listener.name.sasl_ssl.ssl.keystore.location'], '/sb/tls/broker-keystore.pem')
  t.equal(p['listener.name.ssl.ssl.client.auth'], 'required', 'the SSL listener still wants a client certificate')
  t.notOk(Object.keys(serverProperties(nodes[0]!, nodes, tls)).some(k => k.includes('sasl')), 'TLS alone: no SASL_SSL')
  t.notOk(Object.keys(serverProperties(nodes[0]!, nodes, null, {}, users)).some(k => k.includes('sasl_ssl')), 'SASL alone: no SASL_SSL')
})
