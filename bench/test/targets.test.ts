import t from 'tap'
import { createServer } from 'node:net'
import { envoyTcpProxyConfig, findEnvoy, freePortRange, TARGETS } from '../src/targets.ts'

t.test('Envoy tcp_proxy config names the listener, admin and upstream ports', async t => {
  const yaml = envoyTcpProxyConfig(21000, 21001, '127.0.0.1', 9092)
  t.match(yaml, /name: kafka\n    address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 21000 \} \}/)
  t.match(yaml, /admin:\n  address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 21001 \} \}/)
  t.match(yaml, /envoy\.extensions\.filters\.network\.tcp_proxy\.v3\.TcpProxy/)
  t.match(yaml, /port_value: 9092 \} \} \}\n$/)
  t.notMatch(yaml, /\t/)
})

t.test('an Envoy binary that is not there is null, so compare reports envoy as skipped', async t => {
  t.equal(findEnvoy('/nonexistent/envoy'), null)
  await t.rejects(TARGETS.envoy!.start({ host: '127.0.0.1', port: 9, brokerPid: null, envoyBin: '/nonexistent/envoy', log: () => {} }), { code: 'KPROXY_ERR_BENCH_TARGET', message: 'no Envoy binary at /nonexistent/envoy' })
})

t.test('free port ranges are free and below the ephemeral range', async t => {
  const base = await freePortRange(8)
  t.ok(base >= 20_000 && base + 8 < 32_000)
  const s = createServer()
  await new Promise<void>(resolve => s.listen(base + 8, '127.0.0.1', resolve))
  s.close()
})
