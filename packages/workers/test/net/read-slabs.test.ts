import t from 'tap'
import { BIG_READ, release, retain, SLAB_SIZE, SlabReader, slabOf } from '../../src/net/read-slabs.ts'
import { pattern } from './byte-pattern.ts'

t.test('SlabReader: small reads copied out of the shared buffer, a large read moves the socket to a slab of its own, a small one back', async t => {
  const chunks: Buffer[] = []
  const reader = new SlabReader(c => chunks.push(c))
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
