// Static read buffers on the upstream side (net/read-slabs.ts): a KafkaConnection that reads into
// reused slabs hands its frames on as views, and no forwarded byte may change afterwards. A
// scripted broker on a real socket answers with responses of random content and size (many
// bigger than a slab), written in odd pieces so that frames and size prefixes are split across
// reads. One target relays the frames through a WriteBatch to a client socket that is not read
// for a while (its kernel buffer fills, the writes finish late); another keeps the frames it got
// (a non-borrowing target: it must get copies). Every byte is compared with what the broker sent,
// and the slabs must have been reused (else the test would prove nothing).
import t from 'tap'
import { createServer, connect } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { frameToBuffer, framePrefix } from '@kproxy/core/protocol/frame-reader'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { plainDialer } from '../../src/net/upstream-dialer.ts'
import { WriteBatch } from '../../src/net/write-batch.ts'
import { slabStats } from '../../src/net/read-slabs.ts'
import { KafkaConnection } from '../../src/upstream/kafka-connection.ts'
import type { ConnectionListener, KafkaConnection as Conn, ResponseTarget } from '../../src/upstream/kafka-connection.ts'

// A request: size, apiKey, apiVersion, correlationId (enough for 'client' correlation).
function request (id: number): Buffer {
  const b = Buffer.alloc(12)
  b.writeInt32BE(8, 0)
  b.writeInt16BE(1, 4)
  b.writeInt16BE(4, 6)
  b.writeInt32BE(id, 8)
  return b
}

// The broker: answers each request, in order, with a response of `sizes[id]` random payload
// bytes (after the correlation id), written in pieces of 1..`piece` bytes with pauses between.
async function broker (t: { teardown (fn: () => unknown): void }, sizes: number[], piece: number): Promise<{ port: number, sent: Buffer[] }> {
  const sent: Buffer[] = []
  const server = createServer(socket => {
    let pending = Buffer.alloc(0)
    let queue: Promise<void> = Promise.resolve()
    socket.on('data', chunk => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 12) {
        const id = pending.readInt32BE(8)
        pending = pending.subarray(12)
        const frame = Buffer.alloc(8 + sizes[id]!)
        frame.writeInt32BE(4 + sizes[id]!, 0)
        frame.writeInt32BE(id, 4)
        randomBytes(sizes[id]!).copy(frame, 8)
        sent[id] = frame
        queue = queue.then(async () => {
          // sometimes the size prefix alone, so that a read ends right after it (the reader
          // keeps a view of it until the payload has come)
          let at = 0
          if (Math.random() < 0.3) {
            socket.write(frame.subarray(0, 4))
            at = 4
            await sleep(2)
          }
          while (at < frame.length) {
            const n = 1 + Math.floor(Math.random() * piece)
            if (!socket.write(frame.subarray(at, at + n))) await once(socket, 'drain')
            at += n
            if (Math.random() < 0.2) await sleep(0)
          }
        })
      }
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  return { port: (server.address() as AddressInfo).port, sent }
}

function listener (ready: () => void): ConnectionListener {
  return {
    upstreamReady: ready,
    upstreamFull: () => {},
    upstreamClosed: (_c: Conn, failure) => { if (failure !== null) throw new Error(failure.message) }
  }
}

// A client socket pair: `out` is kproxy's end, `peer` the client's (paused until resumed).
async function clientPair (t: { teardown (fn: () => unknown): void }): Promise<{ out: Socket, peer: Socket, received: Buffer[] }> {
  const received: Buffer[] = []
  let peer!: Socket
  const server = createServer(s => {
    peer = s
    s.pause()
    s.on('data', c => received.push(c))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const out = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await once(server, 'connection')
  if (out.connecting) await once(out, 'connect')
  t.teardown(() => { out.destroy(); peer.destroy(); server.close() })
  return { out, peer, received }
}

// A connection with static reads to the scripted broker at `port`, once ready, that has sent
// requests 0..count-1 for `target`.
async function askAll (t: { teardown (fn: () => unknown): void }, port: number, target: ResponseTarget, count: number): Promise<KafkaConnection> {
  let conn!: KafkaConnection
  const ready = new Promise<void>(resolve => {
    conn = new KafkaConnection({ dialer: plainDialer, address: { host: '127.0.0.1', port }, connectTimeoutMs: 5000, maxFrameSize: 1 << 20, correlation: 'client', listener: listener(resolve), staticReads: true })
  })
  t.teardown(() => conn.close())
  await ready
  for (let id = 0; id < count; id++) conn.send(target, id, null, [request(id)])
  conn.flush()
  return conn
}

t.test('relayed through a WriteBatch to a client that reads late: every byte as the broker sent it', async t => {
  // about 30 MB: more than the kernel buffers of a loopback connection hold
  const sizes = Array.from({ length: 300 }, (_, i) => i % 3 === 0 ? 200_000 + Math.floor(Math.random() * 400_000) : Math.floor(Math.random() * 3000))
  const b = await broker(t, sizes, 40_000)
  const client = await clientPair(t)
  const batch = new WriteBatch({ slabViews: true })
  let delayed = 0
  const target: ResponseTarget = {
    borrowsFrames: true,
    upstreamResponse (_tag: unknown, frame: Frame) {
      batch.add(framePrefix(frame))
      for (const c of frame.chunks) batch.add(c)
    },
    upstreamBatchEnd () {
      batch.flush(client.out)
      if (client.out.writableLength > 0) delayed++
    }
  }
  const before = slabStats.reused
  const conn = await askAll(t, b.port, target, sizes.length)
  const total = sizes.reduce((a, n) => a + 8 + n, 0)
  // the client reads nothing while answers arrive: kproxy's writes to it finish late
  while (conn.pending > 0 && (delayed === 0 || conn.pending > sizes.length / 2)) await sleep(5)
  t.ok(delayed > 0, `writes to the client finished late (${delayed} flushes)`)
  client.peer.resume()
  while (client.received.reduce((a, c) => a + c.length, 0) < total) await sleep(5)
  const got = Buffer.concat(client.received)
  t.equal(got.length, total)
  t.ok(got.equals(Buffer.concat(b.sent)), 'every forwarded byte equals what the broker sent')
  t.ok(slabStats.reused > before, `slabs were reused (${slabStats.reused - before} times)`)
  await sleep(20)
  t.equal(batch.heldSlabs, 0, 'the batch holds no slab once everything has been written')
})

t.test('a target that does not borrow gets copies it may keep', async t => {
  const sizes = Array.from({ length: 40 }, () => Math.floor(Math.random() * 200_000))
  const b = await broker(t, sizes, 30_000)
  const kept: Frame[] = []
  const target: ResponseTarget = {
    upstreamResponse (_tag: unknown, frame: Frame) { kept.push(frame) },
    upstreamBatchEnd () {}
  }
  const before = slabStats.reused
  const conn = await askAll(t, b.port, target, sizes.length)
  while (kept.length < sizes.length) await sleep(5)
  for (let id = 0; id < sizes.length; id++) {
    const whole = Buffer.concat([framePrefix(kept[id]!), frameToBuffer(kept[id]!)])
    if (!whole.equals(b.sent[id]!)) t.fail(`response ${id} changed after it was handed over`)
  }
  t.pass(`${sizes.length} kept responses intact`)
  t.ok(slabStats.reused > before, `slabs were reused (${slabStats.reused - before} times)`)
})

t.test('no socket asked a closed reader for a buffer', async t => {
  // every connection above is closed by its test's teardown; give the sockets a turn to finish
  await sleep(50)
  t.equal(slabStats.readsAfterClose, 0)
})
