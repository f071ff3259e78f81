import t from 'tap'
import { BrokerDirectory, mappedPort, mappedPortOrThrow } from '../../src/broker-mode/broker-directory.ts'

t.test('port mapping: offset and explicit', async t => {
  t.equal(mappedPort({ kind: 'offset', base: 19090 }, 3), 19093)
  t.equal(mappedPort({ kind: 'offset', base: 65530 }, 10), -1)
  t.equal(mappedPort({ kind: 'offset', base: 100 }, -1), -1)
  t.equal(mappedPort({ kind: 'explicit', ports: { 1: 9001 } }, 1), 9001)
  t.equal(mappedPort({ kind: 'explicit', ports: { 1: 9001 } }, 2), -1)
  t.throws(() => mappedPortOrThrow({ kind: 'explicit', ports: {} }, 2), { code: 'KPROXY_ERR_BROKER_PORT_UNMAPPED' })
})

t.test('directory learns and updates real addresses', async t => {
  const d = new BrokerDirectory()
  t.ok(d.learn(2, 'b', 2))
  t.ok(d.learn(1, 'a', 1))
  t.notOk(d.learn(1, 'a2', 11), 'known node: updated, not new')
  t.notOk(d.learn(-1, '', -1), 'no-node placeholders are ignored')
  t.same(d.get(1), { host: 'a2', port: 11 })
  t.same(d.nodeIds(), [1, 2])
  t.equal(d.size, 2)
})
