import t from 'tap'
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { once } from 'node:events'
import { AcceptedReader, BIG_READ, readWithoutStream } from '../../src/net/accepted-reads.ts'
import { release, retain, SLAB_SIZE, slabOf } from '../../src/net/read-slabs.ts'
import type { ReadSlab } from '../../src/net/read-slabs.ts'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

// A paused-on-connect server whose connections are rebuilt; `onSocket` gets each one.
async function server (t: { teardown (fn: () => unknown): void }, onSocket: (s: Socket, original: Socket) => void): Promise<{ server: Server, port: number }> {
  const s = createServer({ pauseOnConnect: true }, original => onSocket(readWithoutStream(original), original))
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => s.close())
  return { server: s, port: (s.address() as { port: number }).port }
}

function pattern (n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) % 251
  return b
}

t.test('two connections at once: every byte in order; large reads are lent in slabs that are never read into while held', async t => {
  const received = new Map<number, Buffer[]>()
  const lent = new Map<number, number>()
  const held: ReadSlab[] = []
  const sockets: Socket[] = []
  const { port } = await server(t, (s, original) => {
    t.not(s, original, 'a new socket around the same connection')
    t.ok(s.isPaused(), 'paused until its owner resumes it')
    const chunks: Buffer[] = []
    received.set(s.remotePort!, chunks)
    lent.set(s.remotePort!, 0)
    s.on('data', (d: Buffer) => {
      // kept as it is: a lent chunk stays valid only while its slab is held
      chunks.push(d)
      const slab = slabOf(d)
      if (slab !== undefined) {
        retain(slab)
        held.push(slab)
        lent.set(s.remotePort!, lent.get(s.remotePort!)! + 1)
      }
    })
    sockets.push(s)
  })
  const a = connect(port, '127.0.0.1')
  const b = connect(port, '127.0.0.1')
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  t.teardown(() => { a.destroy(); b.destroy() })
  const dataA = pattern(3_000_000, 1)
  const dataB = pattern(2_000_000, 7)
  a.write(dataA)
  b.write(dataB)
  while (sockets.length < 2) await sleep(5)
  await sleep(50)
  t.equal([...received.values()].reduce((n, c) => n + c.length, 0), 0, 'nothing read while paused')
  for (const s of sockets) s.resume()
  const total = (port: number): number => (received.get(port) ?? []).reduce((n, c) => n + c.length, 0)
  while (total(a.localPort!) < dataA.length || total(b.localPort!) < dataB.length) await sleep(5)
  const chunksA = received.get(a.localPort!)!
  const chunksB = received.get(b.localPort!)!
  t.ok(chunksA.length > 1 && chunksB.length > 1, `read in several chunks (${chunksA.length} and ${chunksB.length})`)
  t.ok(lent.get(a.localPort!)! > 0 && lent.get(b.localPort!)! > 0, `large reads lent as slab views (${lent.get(a.localPort!)} and ${lent.get(b.localPort!)})`)
  // every chunk kept while later reads went on: the held slabs were not read into again
  t.ok(Buffer.concat(chunksA).equals(dataA), 'connection A intact')
  t.ok(Buffer.concat(chunksB).equals(dataB), 'connection B intact')
  t.ok(chunksA.every(c => chunksB.every(d => c.buffer !== d.buffer || (c.byteOffset + c.length <= d.byteOffset || d.byteOffset + d.length <= c.byteOffset))), 'no chunk shares bytes with the other connection')
  for (const slab of held) release(slab)
})

t.test('AcceptedReader: small reads copied out of the shared buffer, a large read moves the socket to a slab of its own, a small one back', async t => {
  const chunks: Buffer[] = []
  const reader = new AcceptedReader(c => chunks.push(c))
  const fill = (buf: Uint8Array, n: number, seed: number): void => { buf.set(pattern(n, seed)) }
  const shared = reader.option.buffer()
  t.equal(slabOf(Buffer.from(shared.buffer, shared.byteOffset, shared.length)), undefined, 'the first buffer is the shared one, not a slab')
  fill(shared, 100, 1)
  reader.option.callback(100, shared)
  t.ok(chunks[0]!.equals(pattern(100, 1)) && chunks[0]!.buffer !== shared.buffer, 'a small read is a copy')
  t.equal(reader.option.buffer(), shared, 'and the next read goes to the shared buffer again')
  t.notOk(reader.lending)
  fill(shared, BIG_READ, 2)
  reader.option.callback(BIG_READ, shared)
  t.ok(chunks[1]!.equals(pattern(BIG_READ, 2)) && chunks[1]!.buffer !== shared.buffer, 'a large read into the shared buffer is copied too')
  const first = reader.option.buffer()
  const slab = slabOf(first as Buffer)!
  t.ok(slab !== undefined && reader.lending, 'after a large read, a slab of its own')
  fill(first, SLAB_SIZE, 3)
  reader.option.callback(SLAB_SIZE, first)
  t.equal(chunks[2]!.buffer, first.buffer, 'read into the slab: lent, not copied')
  t.equal(reader.option.buffer(), first, 'nobody held it: the same slab again')
  // a holder keeps it: the next read goes elsewhere
  fill(first, BIG_READ, 4)
  reader.option.callback(BIG_READ, first)
  retain(slab)
  const second = reader.option.buffer()
  t.not(second, first, 'a held slab is not read into again')
  t.equal(slab.refs, 1, 'only the holder has it now')
  t.ok(chunks[3]!.equals(pattern(BIG_READ, 4)), 'the held chunk is intact')
  // a small read ends the streaming: back to the shared buffer, the slab back to the pool
  const secondSlab = slabOf(second as Buffer)!
  fill(second, 10, 5)
  reader.option.callback(10, second)
  t.ok(chunks[4]!.equals(pattern(10, 5)), 'the small read in the slab is handed on')
  t.equal(reader.option.buffer(), shared, 'after a small read: the shared buffer')
  t.notOk(reader.lending)
  t.equal(secondSlab.refs, 0, 'the slab went back')
  release(slab)
  t.equal(slab.refs, 0)
  // close: a large read after it does not take a slab
  fill(shared, BIG_READ, 6)
  reader.option.callback(BIG_READ, shared)
  const third = reader.option.buffer()
  const thirdSlab = slabOf(third as Buffer)!
  reader.close()
  t.equal(thirdSlab.refs, 0, 'close gives the slab back')
  t.equal(reader.option.buffer(), shared, 'a closed reader reads (if Node asks) into the shared buffer only')
})

t.test('pause stops the reads of a flowing socket; writes, end and close work; the server sees the connection go', async t => {
  let socket: Socket | null = null
  const chunks: Buffer[] = []
  const { server: s, port } = await server(t, sock => {
    socket = sock
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      sock.write(d)
    })
    sock.on('end', () => sock.end())
    sock.resume()
  })
  const c = connect(port, '127.0.0.1')
  await once(c, 'connect')
  const echoed: Buffer[] = []
  c.on('data', (d: Buffer) => echoed.push(d))
  c.write('hello')
  while (echoed.length === 0) await sleep(5)
  t.equal(Buffer.concat(echoed).toString(), 'hello', 'echoed through the new socket')
  socket!.pause()
  const before = chunks.length
  c.write('while paused')
  await sleep(100)
  t.equal(chunks.length, before, 'no read while paused')
  socket!.resume()
  while (Buffer.concat(echoed).length < 'hellowhile paused'.length) await sleep(5)
  t.equal(Buffer.concat(echoed).toString(), 'hellowhile paused')
  t.equal(socket!.remoteAddress, '127.0.0.1')
  t.equal(socket!.remotePort, c.localPort)
  c.end()
  await once(c, 'close')
  while (!socket!.destroyed) await sleep(5)
  const count = await new Promise<number>((resolve, reject) => s.getConnections((err, n) => err != null ? reject(err) : resolve(n)))
  t.equal(count, 0, 'the server counts no connection once the rebuilt socket closed')
  await new Promise<void>(resolve => s.close(() => resolve()))
  t.pass('server.close() completes (it waits for the connections it counts)')
})

t.test('a socket that is already reading is used as it is', async t => {
  const s = createServer(original => {
    // not paused on connect: reading already
    t.equal(readWithoutStream(original), original)
    original.destroy()
  })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => s.close())
  const c = connect((s.address() as { port: number }).port, '127.0.0.1')
  c.on('error', () => {})
  await once(c, 'close')
})
