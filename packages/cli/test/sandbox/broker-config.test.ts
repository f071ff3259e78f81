import t from 'tap'
import { ownedKeyReason, parseBrokerConfig } from '../../src/sandbox/broker-config.ts'

t.test('KEY=VALUE entries become server.properties entries; a later key wins', async t => {
  t.same(parseBrokerConfig([
    'num.partitions=4',
    'super.users=User:admin;User:alice',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_x="a=b";',
    'log.retention.ms=1000',
    'log.retention.ms=2000',
    'message.max.bytes='
  ]), {
    'num.partitions': '4',
    'super.users': 'User:admin;User:alice',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_x="a=b";',
    'log.retention.ms': '2000',
    'message.max.bytes': ''
  })
  t.same(parseBrokerConfig([]), {})
})

t.test('keys the sandbox owns are refused with the reason', async t => {
  for (const key of ['node.id', 'broker.id', 'process.roles', 'listeners', 'advertised.listeners', 'listener.security.protocol.map',
    'inter.broker.listener.name', 'log.dirs', 'log.dir', 'metadata.log.dir', 'controller.quorum.voters', 'controller.listener.names',
    'controller.quorum.bootstrap.servers']) {
    t.ok(ownedKeyReason(key), key)
    t.throws(() => parseBrokerConfig([`${key}=x`]), { code: 'KPROXY_ERR_SANDBOX_OPTIONS', message: new RegExp(`${key.replaceAll('.', '\\.')} is set by the sandbox itself`) })
  }
  // look-alikes are the user's
  for (const key of ['log.dirs.extra', 'listener.name.ssl.ssl.client.auth', 'controlled.shutdown.enable', 'log.retention.ms']) t.equal(ownedKeyReason(key), null, key)
})

t.test('bad syntax: every problem in one message', async t => {
  const err = t.throws(() => parseBrokerConfig(['num.partitions', 'bad key=1', '.leading=1', 'trailing.=1', 'a..b=1', '=1', 'x=line\nbreak', 'node.id=2'])) as Error & { code: string }
  t.equal(err.code, 'KPROXY_ERR_SANDBOX_OPTIONS')
  t.match(err.message, /^--broker-config: /)
  t.match(err.message, /'num\.partitions' is not KEY=VALUE/)
  for (const key of ['bad key', '.leading', 'trailing.', 'a..b', '']) t.match(err.message, `'${key}' is not a Kafka configuration key`)
  t.match(err.message, /the value of x contains a line break/)
  t.match(err.message, /node\.id is set by the sandbox itself/)
})
