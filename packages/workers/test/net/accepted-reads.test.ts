import t from 'tap'
import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { once } from 'node:events'
import { readWithoutStream } from '../../src/net/accepted-reads.ts'
import { release, retain, slabOf } from '../../src/net/read-slabs.ts'
import type { ReadSlab } from '../../src/net/read-slabs.ts'
import { pattern } from './byte-pattern.ts'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

// A paused-on-connect server whose connections are rebuilt; `onSocket` gets each one.
async function server (t: { teardown (fn: () => unknown): void }, onSocket: (s: Socket, original: Socket) => void): Promise<{ server: Server, port: number }> {
  const s = createServer({ pauseOnConnect: true }, original => onSocket(readWithoutStream(original), original))
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => s.close())
  return { server: s, port: (s.address() as { port: number }).port }
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
