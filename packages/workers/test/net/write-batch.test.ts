import t from 'tap'
import { createServer, connect } from 'node:net'
import type { Socket } from 'node:net'
import { WriteBatch } from '../../src/net/write-batch.ts'
import { release, takeSlab } from '../../src/net/read-slabs.ts'

// Records what a socket is asked to do (the batch only calls write, cork and uncork).
function recorder (writeResult = true) {
  const calls: string[] = []
  const written: Buffer[] = []
  const socket = {
    write (b: Buffer) { calls.push(`write ${b.length}`); written.push(b); return writeResult },
    cork () { calls.push('cork') },
    uncork () { calls.push('uncork') }
  }
  return { calls, written, socket: socket as unknown as Socket }
}

t.test('adjacent ranges of one buffer go out as one write of the original memory', async t => {
  const chunk = Buffer.from('0123456789abcdef')
  const batch = new WriteBatch({ slabViews: true })
  batch.add(chunk.subarray(0, 4))
  batch.add(chunk.subarray(4, 10))
  batch.add(chunk.subarray(10, 16))
  const r = recorder()
  t.equal(batch.flush(r.socket), 16)
  t.same(r.calls, ['write 16'])
  t.equal(r.written[0]!.buffer, chunk.buffer, 'a view, not a copy')
  t.equal(r.written[0]!.byteOffset, chunk.byteOffset)
  t.ok(batch.empty)
  t.equal(batch.flush(r.socket), 0, 'nothing left')
})

t.test('separate buffers keep their order in one corked write; a gap is not bridged', async t => {
  const chunk = Buffer.from('0123456789')
  const other = Buffer.from('XY')
  const batch = new WriteBatch({ slabViews: true })
  batch.add(chunk.subarray(0, 3))
  batch.add(chunk.subarray(5, 8)) // gap 3..5
  batch.add(Buffer.alloc(0))
  batch.add(other)
  batch.add(chunk.subarray(8, 10))
  const r = recorder()
  t.equal(batch.flush(r.socket), 10)
  t.same(r.calls, ['cork', 'write 3', 'write 3', 'write 2', 'write 2', 'uncork'])
  t.equal(Buffer.concat(r.written).toString(), '012567XY89')
  t.notOk(batch.full)
})

t.test('full: the last write said the socket buffer is over its mark; clear drops everything', async t => {
  const batch = new WriteBatch({ slabViews: true })
  batch.add(Buffer.from('a'))
  const r = recorder(false)
  batch.flush(r.socket)
  t.ok(batch.full)
  batch.add(Buffer.from('b'))
  batch.add(Buffer.from('c'))
  batch.clear()
  t.ok(batch.empty)
  const r2 = recorder()
  t.equal(batch.flush(r2.socket), 0)
  t.same(r2.calls, [])
})

t.test('bytes arrive intact over a real socket', async t => {
  const received: Buffer[] = []
  const server = createServer(s => s.on('data', d => received.push(d)))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const client = connect(port, '127.0.0.1')
  await new Promise(resolve => client.once('connect', resolve))
  const big = Buffer.alloc(300_000)
  for (let i = 0; i < big.length; i++) big[i] = i % 251
  const batch = new WriteBatch({ slabViews: true })
  for (let off = 0; off < big.length; off += 1000) batch.add(big.subarray(off, off + 1000))
  batch.add(Buffer.from('end'))
  batch.flush(client)
  client.end()
  await new Promise(resolve => setTimeout(resolve, 300))
  const all = Buffer.concat(received)
  t.equal(all.length, big.length + 3)
  t.ok(all.subarray(0, big.length).equals(big))
  t.equal(all.subarray(big.length).toString(), 'end')
  server.close()
})

t.test('a batch made without slabViews holds no slab; one made with them holds until written', async t => {
  const slab = takeSlab()
  const view = slab.buf.subarray(0, 10)
  const plain = new WriteBatch({ slabViews: false })
  plain.add(view)
  t.equal(plain.heldSlabs, 0, 'no lookup, no hold')
  t.equal(slab.refs, 1)
  plain.clear()
  const tracking = new WriteBatch({ slabViews: true })
  tracking.add(view)
  t.equal(tracking.heldSlabs, 1)
  t.equal(slab.refs, 2)
  tracking.flush({ write: () => true, cork () {}, uncork () {}, writableLength: 0 })
  t.equal(tracking.heldSlabs, 0, 'released when the socket has nothing left to write')
  t.equal(slab.refs, 1)
  release(slab)
})
