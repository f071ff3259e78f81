// `kproxy check-config` and `kproxy serve` of a mesh config as a user meets them, without Kafka:
// the clusters are ports nobody listens on, so every topic is unavailable, yet kproxy starts,
// answers Metadata (one broker: itself) and stops cleanly.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse, encodeRequest, getApi } from '@kproxy/core/protocol/codec'
import { kproxy } from '../helpers/run-kproxy.ts'
import { freePort } from '../../../workers/test/free-port.ts'

const KPROXY = fileURLToPath(new URL('../../bin/kproxy', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'kproxy-serve-mesh-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('check-config: a mesh file -> one line; its cross-key errors with line and column', async t => {
  const ok = join(scratch, 'mesh.yaml')
  writeFileSync(ok, 'mesh:\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n    - name: two\n      bootstrap: 127.0.0.1:2\n  routes:\n    - prefix: a\n      cluster: one\n    - exact: berries\n      cluster: two\n      rename: fruit.berries\n')
  const r = await kproxy('check-config', ok)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /ok — mesh mode, listen 127\.0\.0\.1:19092 .*clusters one \(127\.0\.0\.1:1\), two \(127\.0\.0\.1:2\), routes a\* -> one, berries -> two \(as fruit\.berries\), default cluster none/)
  const bad = join(scratch, 'bad.yaml')
  writeFileSync(bad, 'mesh:\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n  routes:\n    - prefix: a\n      cluster: one\n    - prefix: ab\n      cluster: two\nbrokerMode:\n  upstream: [h:1]\n')
  const b = await kproxy('check-config', bad)
  t.equal(b.code, 1)
  t.match(b.stderr, `${bad}:8:7: mesh.routes[1]: overlaps rule 0 (prefix 'a')`)
  t.match(b.stderr, /mesh\.routes\[1\]\.cluster: cluster 'two' is not in mesh\.clusters; allowed: one/)
  t.match(b.stderr, /brokerMode and mesh are exclusive/)
})

t.test('check-config: per-cluster TLS and SASL in the summary, SASL mistakes at their key', async t => {
  const ok = join(scratch, 'secure.yaml')
  writeFileSync(ok, 'mesh:\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n    - name: two\n      bootstrap: [127.0.0.1:2]\n      tls: { enabled: true }\n      sasl: { mechanism: SCRAM-SHA-256, username: kproxy, passwordEnv: TWO_PW }\n')
  const r = await kproxy('check-config', ok)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /clusters one \(127\.0\.0\.1:1\), two \(127\.0\.0\.1:2, TLS, SASL SCRAM-SHA-256 as kproxy\)/)
  const missing = join(scratch, 'missing-ca.yaml')
  writeFileSync(missing, 'mesh:\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n    - name: two\n      bootstrap: [127.0.0.1:2]\n      tls: { ca: /nonexistent/ca.pem }\n')
  const m = await kproxy('check-config', missing)
  t.equal(m.code, 1)
  t.match(m.stderr, 'mesh.clusters[1].tls.ca: cannot read /nonexistent/ca.pem (ENOENT)', 'a TLS file error names the cluster\'s key')
  const bad = join(scratch, 'bad-sasl.yaml')
  writeFileSync(bad, 'mesh:\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n      sasl:\n        mechanism: SCRAM-SHA-1\n        username: kproxy\n        password: hunter2\n')
  const b = await kproxy('check-config', bad)
  t.equal(b.code, 1)
  t.match(b.stderr, `${bad}:6:20: mesh.clusters[0].sasl.mechanism: got string "SCRAM-SHA-1", allowed: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`)
  t.match(b.stderr, `${bad}:8:9: mesh.clusters[0].sasl.password: unknown key`)
  t.notMatch(b.stderr, /hunter2/)
})

t.test('serve: clusters down, kproxy still answers Metadata as the one broker and stops on SIGTERM', async t => {
  const [listen, admin] = [await freePort(), await freePort()]
  const file = join(scratch, 'down.yaml')
  writeFileSync(file, `mesh:\n  listen: 127.0.0.1:${listen}\n  clusters:\n    - name: one\n      bootstrap: [127.0.0.1:1]\n  routes:\n    - prefix: a\n      cluster: one\nadmin: 127.0.0.1:${admin}\n`)
  const child = spawn(KPROXY, ['serve', '--config', file, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  for (let i = 0; i < 900 && !out.includes('kproxy mesh serving'); i++) await new Promise(resolve => setTimeout(resolve, 100))
  t.match(out, /kproxy mesh serving on 127\.0\.0\.1:\d+ in front of 1 cluster\(s\) \(one\), 2 worker\(s\)/)
  t.match(out, /KPROXY_WARN_MESH_CLUSTER_DOWN|KPROXY_ERR_UPSTREAM_CONNECT/, 'the unreachable cluster is logged')

  // Metadata v12 for apples (routed to the down cluster) and zebra (no route)
  const { Socket } = await import('node:net')
  const sock = new Socket()
  await new Promise<void>(resolve => sock.connect(listen, '127.0.0.1', resolve))
  const body = getApi(ApiKey.Metadata).request.create()
  const s = getApi(ApiKey.Metadata).request.structs
  body.topics = [{ ...s.MetadataRequestTopic!(), name: 'apples' }, { ...s.MetadataRequestTopic!(), name: 'zebra' }]
  sock.write(Buffer.concat(encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 7, clientId: 't' }, body)))
  let got = Buffer.alloc(0)
  const frame = await new Promise<Buffer>(resolve => {
    sock.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c])
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) resolve(got.subarray(4, 4 + got.readInt32BE(0)))
    })
  })
  sock.destroy()
  const answer = decodeResponse(frame, ApiKey.Metadata, 12)
  t.equal(answer.header.correlationId, 7)
  t.same(answer.body.brokers.map((b: any) => [b.nodeId, b.host, b.port]), [[0, '127.0.0.1', listen]], 'one broker: kproxy')
  t.same(answer.body.topics.map((x: any) => [x.name, x.errorCode]), [['apples', 5], ['zebra', 3]], 'apples: LEADER_NOT_AVAILABLE (its cluster is down); zebra: UNKNOWN_TOPIC_OR_PARTITION (no route)')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exit 0 on SIGTERM')
})
