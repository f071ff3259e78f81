// Pipeline paths a real broker cannot be made to take on demand: an unreachable upstream, a
// broker that answers the wrong correlation id, SaslHandshake v0 raw tokens (the sandbox has no
// SASL listener). The "upstream" here is a scripted TCP peer, not a Kafka imitation: real-Kafka
// behaviour is covered by test/integration/broker-mode-*.test.ts.
import t from 'tap'
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import pino from 'pino'
import { decodeResponse, encodeRequest, encodeResponse, getApi } from '@kproxy/core/protocol/codec'
import { FrameReader, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { noopProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { BrokerModeConfig } from '@kproxy/core/config/proxy-config'
import { startBrokerMode } from '../../src/broker-mode/broker-mode.ts'
import { freePort } from '../free-port.ts'
import { slabStats } from '../../src/net/read-slabs.ts'

interface Host { teardown (fn: () => unknown): void }
type Script = (payload: Buffer, socket: Socket) => void

function scriptedUpstream (t: Host, script: Script): Promise<{ port: number, server: Server }> {
  return new Promise(resolve => {
    const server = createServer(socket => {
      const reader = new FrameReader({
        allowEmptyFrames: true,
        onFrame: f => { script(frameToBuffer(f), socket) },
        onError: () => socket.destroy()
      })
      socket.on('data', chunk => reader.push(chunk))
      socket.on('error', () => {})
    })
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }))
    t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  })
}


// A broker-mode config on loopback: the listen port, the upstream servers, the rest as given.
function testConfig (port: number, upstreamPorts: number[], overrides: Partial<BrokerModeConfig> = {}): BrokerModeConfig {
  return {
    listen: { host: '127.0.0.1', port },
    advertisedHost: '127.0.0.1',
    upstream: upstreamPorts.map(p => ({ host: '127.0.0.1', port: p })),
    brokerPorts: { kind: 'explicit', ports: {} },
    apiKeysAllowed: [],
    apiKeysDenied: [],
    maxFrameSize: 1 << 20,
    upstreamConnectTimeoutMs: 1000,
    filters: [],
    filterHoldTimeoutMs: 30000,
    bootstrapAnswerTimeoutMs: 1000,
    tls: null,
    upstreamTls: null,
    sni: null,
    ...overrides
  }
}

async function proxyFor (t: Host, upstreamPorts: number[], metrics: ProxyMetrics = noopProxyMetrics): Promise<{ port: number, lines: string[], listeners: ReturnType<typeof startBrokerMode> }> {
  const port = await freePort()
  const config = testConfig(port, upstreamPorts)
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write (s: string) { lines.push(s) } })
  const listeners = startBrokerMode({ config, metrics, logger, onBrokerDiscovered () {} }, { reusePort: false })
  listeners.ready.catch(() => {})
  t.teardown(async () => { await listeners.stopAccepting(); await listeners.drain(500) })
  // the bootstrap listener is up before `ready` (which also needs the broker directory)
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return { port, lines, listeners }
}

// A client socket collecting everything it receives.
function client (port: number): Promise<{ socket: Socket, received: () => Buffer, closed: Promise<void> }> {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    const closed = new Promise<void>(r => socket.on('close', () => r()))
    socket.on('data', c => chunks.push(c))
    socket.on('error', () => {})
    socket.on('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }))
  })
}

const wait = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const codes = (lines: string[]): string[] => lines.map(l => JSON.parse(l).code).filter(Boolean)

t.test('unreachable upstream: the client is closed with a coded reason, upstreamHealthy is false', async t => {
  const dead = await freePort()
  const { port, lines, listeners } = await proxyFor(t, [dead])
  const c = await client(port)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'c' }, {})))
  await c.closed
  t.ok(codes(lines).includes('KPROXY_ERR_UPSTREAM_CONNECT'))
  t.equal(listeners.upstreamHealthy, false)
  let ready = false
  listeners.ready.then(() => { ready = true }, () => {})
  await wait(50)
  t.equal(ready, false, 'not ready without a broker directory')
})

t.test('bootstrap servers are tried in order: the first reachable one is used', async t => {
  const dead = await freePort()
  const live = await scriptedUpstream(t, (payload, socket) => {
    const corr = payload.readInt32BE(4)
    const body = { ...getApi(18).response.create(), apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 12 }] }
    for (const c of encodeResponse(18, 0, { correlationId: corr }, body)) socket.write(c)
  })
  const { port, listeners } = await proxyFor(t, [dead, live.port])
  const c = await client(port)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 7, clientId: 'c' }, {})))
  await wait(300)
  const frame = c.received()
  t.ok(frame.length > 4, 'answered')
  const d = decodeResponse(frame.subarray(4), 18, 0)
  t.equal(d.header.correlationId, 7)
  t.same(d.body.apiKeys.map((k: any) => k.apiKey), [3])
  t.equal(listeners.upstreamHealthy, true)
  c.socket.destroy()
})

t.test('a response with the wrong correlation id closes the connection', async t => {
  const up = await scriptedUpstream(t, (payload, socket) => {
    for (const c of encodeResponse(18, 0, { correlationId: payload.readInt32BE(4) + 1 }, getApi(18).response.create())) socket.write(c)
  })
  const { port, lines } = await proxyFor(t, [up.port])
  const c = await client(port)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'c' }, {})))
  await c.closed
  t.equal(c.received().length, 0, 'nothing forwarded')
  t.ok(codes(lines).includes('KPROXY_ERR_UPSTREAM_PROTOCOL'))
})

t.test('SaslHandshake v0: raw tokens pass through after the handshake', async t => {
  const handshakeDone = new WeakSet<Socket>()
  const up = await scriptedUpstream(t, (payload, socket) => {
    if (!handshakeDone.has(socket)) {
      if (payload.readInt16BE(0) !== 17) return // kproxy's own Metadata (broker directory): no answer
      handshakeDone.add(socket)
      const body = { ...getApi(17).response.create(), errorCode: 0, mechanisms: ['PLAIN'] }
      for (const c of encodeResponse(17, 0, { correlationId: payload.readInt32BE(4) }, body)) socket.write(c)
      return
    }
    // a raw token (no Kafka header): answer with an empty token, as a PLAIN server does
    const reply = Buffer.alloc(4)
    reply.writeInt32BE(0, 0)
    socket.write(reply)
    if (payload.toString() !== '\0user\0secret') socket.destroy()
  })
  const { port, lines } = await proxyFor(t, [up.port])
  const c = await client(port)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 17, apiVersion: 0, correlationId: 3, clientId: 'c' }, { mechanism: 'PLAIN' })))
  await wait(200)
  const hs = decodeResponse(c.received().subarray(4), 17, 0)
  t.same(hs.body.mechanisms, ['PLAIN'])
  const token = Buffer.from('\0user\0secret')
  const size = Buffer.alloc(4)
  size.writeInt32BE(token.length, 0)
  c.socket.write(Buffer.concat([size, token]))
  await wait(200)
  const all = c.received()
  t.equal(all.length, 4 + all.readInt32BE(0) + 4, 'handshake response, then the 4-byte empty token')
  t.equal(all.readInt32BE(all.length - 4), 0, 'the raw empty token arrived unchanged')
  t.ok(codes(lines).includes('KPROXY_WARN_SASL_V0_PASSTHROUGH'), 'the switch is logged')
  t.notOk(c.socket.destroyed, 'the connection is still open')
  c.socket.destroy()
})

t.test('a broker that appears in a response gets a listener and is announced', async t => {
  const [p1, p2, port] = [await freePort(), await freePort(), await freePort()]
  let brokers = [{ nodeId: 1, host: '127.0.0.1', port: 9 }]
  const up = await scriptedUpstream(t, (payload, socket) => {
    if (payload.readInt16BE(0) === 18) {
      // ApiVersions, which kproxy asks before Metadata: answered in order, as a broker does
      for (const c of encodeResponse(18, 0, { correlationId: payload.readInt32BE(4) }, getApi(18).response.create())) socket.write(c)
      return
    }
    if (payload.readInt16BE(0) !== 3) return
    const body = getApi(3).response.create()
    body.brokers = brokers.map(b => ({ ...getApi(3).response.structs.MetadataResponseBroker!(), ...b }))
    for (const c of encodeResponse(3, payload.readInt16BE(2), { correlationId: payload.readInt32BE(4) }, body)) socket.write(c)
  })
  const config = testConfig(port, [up.port], { advertisedHost: 'kproxy.local', brokerPorts: { kind: 'explicit', ports: { 1: p1, 2: p2 } } })
  const discovered: Array<[number, number]> = []
  const listeners = startBrokerMode({ config, metrics: noopProxyMetrics, logger: pino({ level: 'silent' }), onBrokerDiscovered (id, p) { discovered.push([id, p]) } }, { reusePort: false })
  t.teardown(async () => { await listeners.stopAccepting(); await listeners.drain(500) })
  await listeners.ready
  t.equal(listeners.upstreamHealthy, true)
  const canConnect = (p: number): Promise<boolean> => new Promise(resolve => {
    const s = connect({ host: '127.0.0.1', port: p }, () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
  t.ok(await canConnect(p1), 'broker 1 (from the start-up Metadata) has its listener')
  t.notOk(await canConnect(p2), 'broker 2 is not known yet')

  brokers = [{ nodeId: 1, host: '127.0.0.1', port: 9 }, { nodeId: 2, host: '127.0.0.1', port: 10 }]
  const c = await client(port)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 3, apiVersion: 12, correlationId: 5, clientId: 'c' }, { ...getApi(3).request.create(), topics: [] })))
  await wait(300)
  const d = decodeResponse(c.received().subarray(4), 3, 12)
  t.same(d.body.brokers.map((b: any) => [b.nodeId, b.host, b.port]), [[1, 'kproxy.local', p1], [2, 'kproxy.local', p2]])
  t.same(discovered, [[2, p2]], 'the runtime is told about broker 2 once')
  t.ok(await canConnect(p2), 'broker 2 now has a listener')
  c.socket.destroy()
})

t.test('a listener added on another worker\'s word looks its broker up in upstream Metadata', async t => {
  const [p1, p2, port] = [await freePort(), await freePort(), await freePort()]
  let upPort = 0
  let brokers: Array<{ nodeId: number, host: string, port: number }> = []
  const up = await scriptedUpstream(t, (payload, socket) => {
    if (payload.readInt16BE(0) === 18) {
      // ApiVersions, which kproxy asks before Metadata: answered in order, as a broker does
      for (const c of encodeResponse(18, 0, { correlationId: payload.readInt32BE(4) }, getApi(18).response.create())) socket.write(c)
      return
    }
    if (payload.readInt16BE(0) !== 3) return
    const body = getApi(3).response.create()
    body.brokers = brokers.map(b => ({ ...getApi(3).response.structs.MetadataResponseBroker!(), ...b }))
    for (const c of encodeResponse(3, payload.readInt16BE(2), { correlationId: payload.readInt32BE(4) }, body)) socket.write(c)
  })
  upPort = up.port
  brokers = [{ nodeId: 1, host: '127.0.0.1', port: upPort }]
  const config = testConfig(port, [upPort], { brokerPorts: { kind: 'explicit', ports: { 1: p1, 2: p2 } } })
  const listeners = startBrokerMode({ config, metrics: noopProxyMetrics, logger: pino({ level: 'silent' }), onBrokerDiscovered () {} }, { reusePort: false })
  t.teardown(async () => { await listeners.stopAccepting(); await listeners.drain(500) })
  await listeners.ready
  listeners.addBroker(2) // as the runtime does when another worker discovered broker 2
  listeners.addBroker(2) // idempotent
  await wait(100)
  brokers = [{ nodeId: 1, host: '127.0.0.1', port: upPort }, { nodeId: 2, host: '127.0.0.1', port: upPort }]
  const c = await client(p2)
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 3, apiVersion: 12, correlationId: 5, clientId: 'c' }, { ...getApi(3).request.create(), topics: [] })))
  await wait(500)
  const frame = c.received()
  t.ok(frame.length > 4, 'the connection reached broker 2 after the directory refresh')
  t.equal(decodeResponse(frame.subarray(4), 3, 12).header.correlationId, 5)
  c.socket.destroy()
})

t.test('a client that never reads the answers kproxy makes itself is not read from either', async t => {
  const up = await scriptedUpstream(t, () => {}) // never answers
  let requests = 0
  const metrics: ProxyMetrics = { ...noopProxyMetrics, request () { requests++ } }
  const { port } = await proxyFor(t, [up.port], metrics)
  const s = connect({ host: '127.0.0.1', port })
  s.on('error', () => {})
  await new Promise(resolve => s.once('connect', resolve))
  s.pause() // never reads
  // ApiVersions at an unknown version: kproxy answers each one itself, 24 bytes per answer
  const one = Buffer.from([0, 0, 0, 11, 0, 18, 0, 99, 0, 0, 0, 1, 0, 1, 0x78])
  const burst = Buffer.concat(Array.from({ length: 2000 }, () => one))
  let sent = 0
  const until = Date.now() + 2500
  while (Date.now() < until) {
    if (!s.write(burst)) await new Promise(resolve => { s.once('drain', resolve); setTimeout(resolve, 50) })
    sent += 2000
  }
  // wait until kproxy has read all it is going to read
  let b = requests
  for (let i = 0; i < 40; i++) {
    await wait(250)
    if (requests === b) break
    b = requests
  }
  t.comment(`client wrote ${sent} requests, kproxy read ${b}`)
  t.ok(b < sent, 'kproxy stopped reading the client (without backpressure it reads all it was sent)')
  s.destroy()
})

// Produce v7 with acks=0 (no answer): a Kafka header, the fields up to acks, then `size` bytes
// kproxy does not read (no filter wants Produce here).
function produceFrame (correlationId: number, size: number, seed: number): Buffer {
  const head = Buffer.alloc(22)
  head.writeInt32BE(18 + size, 0)
  head.writeInt16BE(0, 4) // Produce
  head.writeInt16BE(7, 6)
  head.writeInt32BE(correlationId, 8)
  head.writeInt16BE(-1, 12) // client id: null
  head.writeInt16BE(-1, 14) // transactional id: null
  head.writeInt16BE(0, 16) // acks
  head.writeInt32BE(1000, 18) // timeout
  const body = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) body[i] = (i * 131 + seed) % 253
  return Buffer.concat([head, body])
}

t.test('requests read into lent slabs reach the upstream as the client sent them, while the upstream reads slowly', async t => {
  const slabsBefore = slabStats.created + slabStats.reused
  const got: Buffer[] = []
  const up = await scriptedUpstream(t, (payload, socket) => {
    const apiKey = payload.readInt16BE(0)
    if (apiKey === 18) {
      const body = { ...getApi(18).response.create(), apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 12 }, { apiKey: 18, minVersion: 0, maxVersion: 4 }] }
      for (const c of encodeResponse(18, 0, { correlationId: payload.readInt32BE(4) }, body)) socket.write(c)
      return
    }
    if (apiKey !== 0) return // kproxy's own Metadata: no answer needed
    got.push(Buffer.from(payload))
    // a broker that stops reading for a while: once the kernel's buffers are full, kproxy's writes
    // wait in its socket, holding the slabs they came from
    if (got.length === 20 || got.length === 150) {
      socket.pause()
      setTimeout(() => socket.resume(), 400)
    }
  })
  const { port } = await proxyFor(t, [up.port])
  const c = await client(port)
  t.teardown(() => c.socket.destroy())
  // proven first (an answer from the bootstrap server), so the requests are not kept for a failover
  c.socket.write(Buffer.concat(encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'c' }, {})))
  while (c.received().length === 0) await wait(5)
  const frames: Buffer[] = []
  let seed = 1
  for (let i = 0; i < 300; i++) {
    const size = i % 5 === 0 ? 40 + (seed * 7) % 200 : 20_000 + (seed * 7919) % 180_000
    frames.push(produceFrame(100 + i, size, seed++))
  }
  // written in pieces that cut frames and size prefixes anywhere
  const all = Buffer.concat(frames)
  let at = 0
  let piece = 0
  while (at < all.length) {
    const n = [3, 70_000, 1, 150_000, 9_000, 65_536][piece++ % 6]!
    if (!c.socket.write(all.subarray(at, at + n))) await new Promise(resolve => c.socket.once('drain', resolve))
    at += n
  }
  for (let i = 0; i < 1000 && got.length < frames.length; i++) await wait(20)
  t.equal(got.length, frames.length, 'every request reached the upstream')
  let same = 0
  for (let i = 0; i < frames.length; i++) if (got[i]?.equals(frames[i]!.subarray(4))) same++
  t.equal(same, frames.length, 'each as the client sent it, in order')
  t.ok(slabStats.created + slabStats.reused - slabsBefore > 50, `the client's large reads went into slabs (${slabStats.created + slabStats.reused - slabsBefore} taken)`)
})

t.test('a failover sends the unanswered requests again as the client sent them, although their reads were lent and read into again', async t => {
  // large Metadata requests (replayable), each its own read of more than BIG_READ bytes
  const metadata = (correlationId: number, n: number): Buffer => {
    const topics = Array.from({ length: n }, (_, i) => ({ ...getApi(3).request.structs.MetadataRequestTopic!(), name: `topic-${correlationId}-${String(i).padStart(30, '0')}` }))
    return Buffer.concat(encodeRequest({ apiKey: 3, apiVersion: 12, correlationId, clientId: 'c' }, { ...getApi(3).request.create(), topics }))
  }
  const requests = [metadata(11, 500), metadata(12, 600), metadata(13, 400)]
  let firstGot = 0
  const first = await scriptedUpstream(t, (payload, socket) => {
    if (payload.readInt16BE(0) !== 3 || payload.readInt32BE(4) < 11) return // kproxy's own Metadata: no answer
    // drops the connection unanswered once all three arrived
    if (++firstGot === 3) socket.destroy()
  })
  const seen: Buffer[] = []
  const second = await scriptedUpstream(t, (payload, socket) => {
    if (payload.readInt16BE(0) !== 3 || payload.readInt32BE(4) < 11) return
    seen.push(Buffer.from(payload))
    for (const c of encodeResponse(3, 12, { correlationId: payload.readInt32BE(4) }, getApi(3).response.create())) socket.write(c)
  })
  const { port } = await proxyFor(t, [first.port, second.port])
  const c = await client(port)
  t.teardown(() => c.socket.destroy())
  for (const r of requests) {
    c.socket.write(r)
    await wait(30)
  }
  for (let i = 0; i < 200 && seen.length < 3; i++) await wait(10)
  t.equal(firstGot, 3, 'the first server got all three')
  t.equal(seen.length, 3, 'the second got all three again')
  for (let i = 0; i < 3; i++) t.ok(seen[i]?.equals(requests[i]!.subarray(4)), `request ${i + 1} as the client sent it`)
  for (let i = 0; i < 100 && c.received().length === 0; i++) await wait(10)
  t.ok(c.received().length > 0, 'and the client has its answers')
})
