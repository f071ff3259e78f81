// The connection's side of KIP-368 re-authentication, against a scripted peer on a real socket
// (the proof against a real broker is test/integration/mesh-mode-upstream-auth.test.ts): the
// login runs again on the same socket before the session ends; a request written before the
// handshake is answered as usual; a request made meanwhile waits until the login succeeded.
import t from 'tap'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, encodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { plainDialer, withLogin } from '../../src/net/upstream-dialer.ts'
import { release, takeSlab } from '../../src/net/read-slabs.ts'
import { KafkaConnection } from '../../src/upstream/kafka-connection.ts'
import type { ConnectionListener, UpstreamFailure } from '../../src/upstream/kafka-connection.ts'
import type { UpstreamLogin } from '../../src/upstream/upstream-sasl-login.ts'

interface Script {
  // session lifetime of each successful SaslAuthenticate, in order (then 0)
  lifetimes: number[]
  // the first ApiVersions is answered only when the test calls release()
  holdFirst: boolean
  // refuse the n-th SaslAuthenticate (1-based), 0 for none
  refuse: number
}

// Answers in arrival order, as a broker does on one connection.
interface Peer {
  port: number
  seen: string[]
  // the second SaslHandshake (the re-authentication's) arrived
  reauthStarted: Promise<void>
  release (): void
}

async function peer (t: { teardown (fn: () => unknown): void }, script: Script): Promise<Peer> {
  const seen: string[] = []
  let secondHandshake!: () => void
  const reauthStarted = new Promise<void>(resolve => { secondHandshake = resolve })
  let release!: () => void
  const released = new Promise<void>(resolve => { release = resolve })
  const server = createServer((socket: Socket) => {
    let buf = Buffer.alloc(0)
    let chain = Promise.resolve()
    let apiVersions = 0
    let authenticates = 0
    let handshakes = 0
    socket.on('data', chunk => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const payload = buf.subarray(4, 4 + buf.readInt32BE(0))
        buf = buf.subarray(4 + payload.length)
        const req = decodeRequest(Buffer.from(payload))
        const name = req.apiKey === ApiKey.SaslHandshake ? 'handshake' : req.apiKey === ApiKey.SaslAuthenticate ? 'authenticate' : `apiVersions:${(req.body as { clientSoftwareName: string }).clientSoftwareName}`
        seen.push(name)
        if (req.apiKey === ApiKey.SaslHandshake && ++handshakes === 2) secondHandshake()
        chain = chain.then(async () => {
          const body = getApi(req.apiKey).response.create() as any
          if (req.apiKey === ApiKey.SaslHandshake) {
            body.mechanisms = ['PLAIN']
          } else if (req.apiKey === ApiKey.SaslAuthenticate) {
            authenticates++
            if (authenticates === script.refuse) {
              body.errorCode = 58 // SASL_AUTHENTICATION_FAILED
              body.errorMessage = 'no'
            } else {
              body.sessionLifetimeMs = BigInt(script.lifetimes.shift() ?? 0)
            }
          } else if (apiVersions++ === 0 && script.holdFirst) {
            await released
          }
          if (!socket.destroyed) for (const f of encodeResponse(req.apiKey, req.apiVersion, { correlationId: req.header.correlationId }, body)) socket.write(f)
        })
      }
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return { port: (server.address() as AddressInfo).port, seen, reauthStarted, release }
}

const login: UpstreamLogin = { mechanism: 'PLAIN', username: 'u', configKey: 'mesh.clusters[0].sasl', credentials: () => ({ username: 'u', password: 'p' }) }

function connection (port: number): { conn: KafkaConnection, ready: Promise<void>, events: string[], closed: Promise<UpstreamFailure | null> } {
  const events: string[] = []
  let onReady!: () => void
  let onClosed!: (f: UpstreamFailure | null) => void
  const ready = new Promise<void>(resolve => { onReady = resolve })
  const closed = new Promise<UpstreamFailure | null>(resolve => { onClosed = resolve })
  const listener: ConnectionListener = {
    upstreamReady () { events.push('ready'); onReady() },
    upstreamFull () {},
    upstreamReauthenticated () { events.push('reauthenticated') },
    upstreamClosed (_c, failure) { events.push('closed'); onClosed(failure) }
  }
  const conn = new KafkaConnection({ dialer: withLogin(plainDialer, () => login), address: { host: '127.0.0.1', port }, connectTimeoutMs: 5000, maxFrameSize: 1 << 20, correlation: 'own', listener })
  return { conn, ready, events, closed }
}

function apiVersions (conn: KafkaConnection, tag: string): Promise<unknown> {
  return conn.request(ApiKey.ApiVersions, 3, { ...getApi(ApiKey.ApiVersions).request.create(), clientSoftwareName: tag, clientSoftwareVersion: '0' })
}

t.test('re-authenticates before the session ends; a request in flight is answered, one made meanwhile waits', async t => {
  const p = await peer(t, { lifetimes: [200], holdFirst: true, refuse: 0 })
  const seen = p.seen
  const { conn, ready, events } = connection(p.port)
  t.teardown(() => conn.close())
  await ready
  // held by the peer: still in flight when the re-authentication (at 170-190 ms) starts
  const a = apiVersions(conn, 'a')
  await p.reauthStarted
  t.equal(conn.state, 'reauthenticating')
  t.ok(conn.ready, 'requests are still accepted (they wait)')
  const b = apiVersions(conn, 'b')
  p.release()
  await Promise.all([a, b])
  t.same(seen, ['handshake', 'authenticate', 'apiVersions:a', 'handshake', 'authenticate', 'apiVersions:b'], 'b went out only after the new login')
  t.same(events, ['ready', 'reauthenticated'])
  t.equal(conn.state, 'ready')
})

t.test('a refused re-authentication closes the connection with KPROXY_ERR_UPSTREAM_SASL; requests in flight fail', async t => {
  const { port } = await peer(t, { lifetimes: [150], holdFirst: false, refuse: 2 })
  const { conn, ready, closed } = connection(port)
  t.teardown(() => conn.close())
  await ready
  await apiVersions(conn, 'a')
  const failure = await closed
  t.match(failure, { phase: 'open', code: 'KPROXY_ERR_UPSTREAM_SASL', message: /re-authentication: .*refused the login of 'u'.*mesh\.clusters\[0\]\.sasl/ })
  await t.rejects(apiVersions(conn, 'late'), { code: 'KPROXY_ERR_UPSTREAM_CLOSED' })
})

t.test('no session lifetime: no re-authentication', async t => {
  const { port, seen } = await peer(t, { lifetimes: [0], holdFirst: false, refuse: 0 })
  const { conn, ready, events } = connection(port)
  t.teardown(() => conn.close())
  await ready
  await apiVersions(conn, 'a')
  await sleep(200)
  await apiVersions(conn, 'b')
  t.same(seen, ['handshake', 'authenticate', 'apiVersions:a', 'apiVersions:b'])
  t.same(events, ['ready'])
})

t.test('a client request lent from a read slab while the connection re-authenticates waits in the write batch, which holds the slab', async t => {
  const p = await peer(t, { lifetimes: [200], holdFirst: true, refuse: 0 })
  const { conn, ready } = connection(p.port)
  t.teardown(() => conn.close())
  await ready
  const a = apiVersions(conn, 'a')
  await p.reauthStarted
  t.equal(conn.state, 'reauthenticating')
  // the request as a client session forwards it: views of the slab its read went into
  const bytes = Buffer.concat(encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 5, clientId: 'c' }, { ...getApi(ApiKey.ApiVersions).request.create(), clientSoftwareName: 'lent', clientSoftwareVersion: '0' }))
  const slab = takeSlab()
  bytes.copy(slab.buf)
  const frame = { size: bytes.length - 4, prefix: slab.buf.subarray(0, 4), chunks: [slab.buf.subarray(4, bytes.length)] }
  const answered = new Promise<void>(resolve => conn.send({ upstreamResponse: () => resolve(), upstreamBatchEnd () {} }, null, frame, null))
  conn.flush()
  t.equal(slab.refs, 2, 'the write batch holds the slab while the request waits for the login')
  // the read is over: a slab nobody else holds would be read into again (here: poisoned)
  if (slab.refs === 1) slab.buf.fill(0xee)
  release(slab)
  p.release()
  await Promise.all([a, answered])
  t.same(p.seen.slice(-3), ['handshake', 'authenticate', 'apiVersions:lent'], 'the broker got the request as the client sent it, after the new login')
  t.equal(slab.refs, 0, 'and the slab went back once it was written')
})
