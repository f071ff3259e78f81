import t from 'tap'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { MeshClusterConfig } from '@kproxy/core/config/schema/mesh-schema'
import { meshClusterDialer, meshClusterLogin } from '../../src/mesh-mode/mesh-cluster-dialer.ts'
import type { MeshMetrics, UpstreamEvent } from '../../src/mesh-mode/mesh-metrics.ts'

const logger = pino({ level: 'silent' })

function cluster (sasl: MeshClusterConfig['sasl']): MeshClusterConfig {
  return { name: 'c1', bootstrap: [{ host: '127.0.0.1', port: 1 }], tls: null, sasl }
}

function recorder (): { metrics: MeshMetrics, events: string[] } {
  const events: string[] = []
  return {
    events,
    metrics: { sent () {}, answered () {}, produceClientRequest () {}, upstream (c: string, e: UpstreamEvent) { events.push(`${c}:${e}`) } }
  }
}

t.test('no sasl: no login; with sasl: the login names its config key and reads the password at each connection', async t => {
  const { metrics } = recorder()
  t.equal(meshClusterDialer(cluster(null), 0, logger, noopProxyMetrics, metrics).login ?? null, null)
  const dir = t.testdir()
  const file = join(dir, 'pw')
  writeFileSync(file, 'first\n')
  const config = cluster({ mechanism: 'SCRAM-SHA-512', username: 'kproxy', passwordFile: file, passwordEnv: null })
  const login = meshClusterDialer(config, 2, logger, noopProxyMetrics, metrics).login!
  t.equal(login.mechanism, 'SCRAM-SHA-512')
  t.equal(login.username, 'kproxy')
  t.equal(login.configKey, 'mesh.clusters[2].sasl')
  t.same(login.credentials(), { username: 'kproxy', password: 'first' })
  writeFileSync(file, 'rotated\n')
  t.same(login.credentials(), { username: 'kproxy', password: 'rotated' }, 'a rotated password file is read at the next connection')
  const env = meshClusterLogin(cluster({ mechanism: 'PLAIN', username: 'k', passwordFile: null, passwordEnv: 'KPROXY_TEST_MESH_PW_UNSET' }), 1)!
  t.throws(() => env.credentials(), { code: 'KPROXY_ERR_UPSTREAM_PASSWORD', message: /KPROXY_TEST_MESH_PW_UNSET.*mesh\.clusters\[1\]\.sasl/ })
})

t.test('every socket dialled to the cluster is counted, and its close', async t => {
  const server = createServer(s => s.end())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const port = (server.address() as AddressInfo).port
  const { metrics, events } = recorder()
  const dialer = meshClusterDialer(cluster(null), 0, logger, noopProxyMetrics, metrics)
  const sockets: Socket[] = [dialer.dial({ host: '127.0.0.1', port }), dialer.dial({ host: '127.0.0.1', port })]
  t.same(events, ['c1:connects', 'c1:connects'])
  await Promise.all(sockets.map(async s => { s.resume(); await once(s, 'close') }))
  t.same(events, ['c1:connects', 'c1:connects', 'c1:disconnects', 'c1:disconnects'])
})
