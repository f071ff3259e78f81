// `kproxy clients` as a user runs it (the real binary) against an admin API that answers GET
// /clients — here a plain node:http server with a report made by the real assessment code — and
// against one that is not there.
import t from 'tap'
import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { assessClients } from '@kproxy/core/bridge/client-report'
import { ApiKey, supportedVersions } from '@kproxy/core/protocol/api-keys'
import { MAX_VERSIONS } from '@kproxy/core/metrics/metrics-registry'
import { clientsReport } from '../../src/admin/clients-endpoint.ts'
import { kproxy } from '../helpers/run-kproxy.ts'

const snapshot = {
  bridgeEnabled: false,
  upstream: supportedVersions(),
  clients: [
    { clientId: 'legacy-app', softwareName: null, softwareVersion: null, principal: 'User:etl', peer: '10.1.2.3', connectionsActive: 2, connectionsTotal: 5, firstSeen: 1, lastSeen: 2, used: [ApiKey.Produce * MAX_VERSIONS + 1, ApiKey.Metadata * MAX_VERSIONS + 0] },
    { clientId: 'modern-app', softwareName: 'apache-kafka-java', softwareVersion: '3.9.0', principal: 'ANONYMOUS', peer: '10.1.2.4', connectionsActive: 1, connectionsTotal: 1, firstSeen: 1, lastSeen: 2, used: [ApiKey.Produce * MAX_VERSIONS + 11] }
  ]
}

t.test('a table from GET /clients; --json as it came; --config reads the admin address', async t => {
  const report = await clientsReport({ clients: async () => snapshot })
  t.same(report, assessClients(snapshot))
  const server = createServer((req, res) => {
    if (req.url !== '/clients') { res.writeHead(404).end(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const admin = `127.0.0.1:${(server.address() as { port: number }).port}`
  const table = await kproxy('clients', '--admin', admin)
  t.equal(table.code, 0, table.stderr)
  const lines = table.stdout.split('\n')
  t.match(lines[0], /^CLIENT ID\s+SOFTWARE\s+PRINCIPAL\s+PEER\s+CONN\s+UPSTREAM\s+KAFKA 4\.3\.1\s+VERSIONS IT NEEDS$/)
  t.match(lines[1], /^legacy-app\s+-\s+User:etl\s+10\.1\.2\.3\s+2\/5\s+NEEDS BRIDGE\s+NOT READY\s+Produce v1 \(accepts 3-13; bridged to v3\)$/)
  t.match(lines[2], /^modern-app\s+apache-kafka-java 3\.9\.0\s+ANONYMOUS\s+10\.1\.2\.4\s+1\/1\s+ok\s+ready\s+-$/)
  t.match(table.stdout, /2 client\(s\); 1 need the version bridge .*; 1 not ready for Kafka 4 without it\. The version bridge is off\./)
  const json = await kproxy('clients', '--admin', `http://${admin}`, '--json')
  t.same(JSON.parse(json.stdout), report)
  const dir = t.testdir()
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, `admin: ${admin}\nbrokerMode:\n  upstream: 127.0.0.1:9092\n`)
  const viaConfig = await kproxy('clients', '--config', config)
  t.equal(viaConfig.code, 0, viaConfig.stderr)
  t.match(viaConfig.stdout, /^CLIENT ID/)
})

t.test('no admin API there, no address, a stray argument: a coded error or the usage', async t => {
  const gone = await kproxy('clients', '--admin', '127.0.0.1:1')
  t.equal(gone.code, 1)
  t.match(gone.stderr, /cannot read http:\/\/127\.0\.0\.1:1\/clients: .*\(KPROXY_ERR_ADMIN_UNREACHABLE\)/)
  const none = await kproxy('clients')
  t.equal(none.code, 2)
  t.match(none.stderr, /give --admin HOST:PORT or --config FILE/)
  const stray = await kproxy('clients', '--bogus')
  t.equal(stray.code, 2)
  t.match(stray.stderr, /unknown argument --bogus/)
  const dir = t.testdir()
  const config = join(dir, 'kproxy.yaml')
  writeFileSync(config, 'brokerMode:\n  upstream: 127.0.0.1:9092\n')
  const noAdmin = await kproxy('clients', '--config', config)
  t.equal(noAdmin.code, 1)
  t.match(noAdmin.stderr, /has no admin address .*KPROXY_ERR_ADMIN_UNREACHABLE/)
})
