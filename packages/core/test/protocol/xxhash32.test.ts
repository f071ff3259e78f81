import t from 'tap'
import { xxhash32 } from '../../src/protocol/xxhash32.ts'

t.test('xxHash32 reference values (seed 0 and seed 1), ranges of a buffer', async t => {
  // values of the reference implementation (xxhsum -H32 and the spec's test vectors)
  t.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05)
  t.equal(xxhash32(Buffer.from('a')), 0x550d7456)
  t.equal(xxhash32(Buffer.from('abc')), 0x32d153ff)
  t.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f)
  t.equal(xxhash32(Buffer.alloc(0), 0, 0, 1), 0x0b2cb792)
  const padded = Buffer.from('__abc__')
  t.equal(xxhash32(padded, 2, 5), 0x32d153ff, 'a range hashes like a copy of it')
  t.equal(xxhash32(new Uint8Array(Buffer.from('abc'))), 0x32d153ff, 'a plain Uint8Array too')
})
