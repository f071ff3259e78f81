import t from 'tap'
import { DEFAULT_MAX_FRAME_SIZE, FrameReader, frameHead, framePrefix, frameToBuffer } from '../../src/protocol/frame-reader.ts'
import type { Frame } from '../../src/protocol/frame-reader.ts'
import type { KproxyError } from '../../src/kproxy-error.ts'

function frameBytes (payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length)
  out.writeInt32BE(payload.length, 0)
  payload.copy(out, 4)
  return out
}

function collect (options: { maxFrameSize?: number, allowEmptyFrames?: boolean } = {}) {
  const frames: Frame[] = []
  const errors: KproxyError[] = []
  const reader = new FrameReader({ ...options, onFrame: f => frames.push(f), onError: e => errors.push(e) })
  return { reader, frames, errors }
}

// deterministic PRNG (mulberry32) so the property test is reproducible
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

// an unpooled copy: its own ArrayBuffer, so `.buffer` identity checks mean something
function own (bytes: Uint8Array | number[]): Buffer {
  const src = Buffer.from(bytes)
  const out = Buffer.alloc(src.length)
  src.copy(out)
  return out
}

const payloads = [Buffer.from('a'), Buffer.from('hello kafka'), Buffer.alloc(300, 7), Buffer.from([1, 2, 3, 4])]
const stream = own(Buffer.concat(payloads.map(frameBytes)))

t.test('one chunk with several frames: frames are subarrays of the chunk', async t => {
  const { reader, frames, errors } = collect()
  reader.push(stream)
  t.same(errors, [])
  t.equal(frames.length, payloads.length)
  for (let i = 0; i < frames.length; i++) {
    t.equal(frames[i].size, payloads[i].length)
    t.equal(frames[i].chunks.length, 1)
    t.equal(frames[i].chunks[0].buffer, stream.buffer, 'no copy')
    t.same(frameToBuffer(frames[i]), payloads[i])
    t.equal(frameToBuffer(frames[i]), frames[i].chunks[0], 'single chunk: frameToBuffer returns it')
  }
  t.equal(reader.bufferedBytes, 0)
  t.equal(reader.pending, false)
  t.equal(reader.end(), true)
  t.same(errors, [])
})

t.test('every single split point (inside size prefixes too) yields the same frames', async t => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const a = own(stream.subarray(0, cut))
    const b = own(stream.subarray(cut))
    const { reader, frames, errors } = collect()
    reader.push(a)
    reader.push(b)
    if (errors.length > 0 || frames.length !== payloads.length) {
      t.fail(`cut ${cut}: ${frames.length} frames, ${errors.length} errors`)
      continue
    }
    for (let i = 0; i < frames.length; i++) {
      for (const c of frames[i].chunks) {
        if (c.buffer !== a.buffer && c.buffer !== b.buffer) t.fail(`cut ${cut}: a chunk is not a view of the input`)
      }
      if (!frameToBuffer(frames[i]).equals(payloads[i])) t.fail(`cut ${cut}: frame ${i} differs`)
    }
    t.equal(reader.pending, false)
  }
})

t.test('prefix: the original 4 bytes when they arrived in one chunk, a copy when split', async t => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const a = own(stream.subarray(0, cut))
    const b = own(stream.subarray(cut))
    const { reader, frames } = collect()
    reader.push(a)
    reader.push(b)
    let start = 0 // where frame i's size prefix starts in the stream
    for (let i = 0; i < frames.length; i++) {
      const prefix = frames[i].prefix!
      if (prefix.readInt32BE(0) !== frames[i].size || !framePrefix(frames[i]).equals(prefix)) t.fail(`cut ${cut}: frame ${i} prefix value`)
      const split = start < cut && cut < start + 4
      const from = start + 4 <= cut ? a : cut <= start ? b : null
      if (split && (prefix.buffer === a.buffer || prefix.buffer === b.buffer)) t.fail(`cut ${cut}: a split prefix must be a copy`)
      if (from !== null) {
        const offset = from === a ? start : start - cut
        if (prefix.buffer !== from.buffer || prefix.byteOffset !== from.byteOffset + offset) t.fail(`cut ${cut}: frame ${i} prefix is not the original bytes`)
      }
      start += 4 + frames[i].size
    }
  }
  const made = framePrefix({ size: 300, chunks: [] })
  t.equal(made.readInt32BE(0), 300, 'a frame without prefix gets a new one')
})

t.test('every pair of split points, including 1-byte chunks inside a size prefix', async t => {
  let checked = 0
  for (let x = 0; x <= 40; x++) {
    for (let y = x; y <= 40; y++) {
      const { reader, frames, errors } = collect()
      reader.push(stream.subarray(0, x))
      reader.push(stream.subarray(x, y))
      reader.push(stream.subarray(y))
      if (errors.length > 0 || frames.length !== payloads.length ||
          !frames.every((f, i) => frameToBuffer(f).equals(payloads[i]))) {
        t.fail(`splits ${x}/${y}`)
      }
      checked++
    }
  }
  t.ok(checked > 800)
})

t.test('random chunking (fixed seed) always reassembles the same frames', async t => {
  const rnd = prng(0xc0ffee)
  const many: Buffer[] = []
  for (let i = 0; i < 200; i++) {
    const p = Buffer.alloc(Math.floor(rnd() * 700) + 1)
    for (let j = 0; j < p.length; j++) p[j] = Math.floor(rnd() * 256)
    many.push(p)
  }
  const bytes = own(Buffer.concat(many.map(frameBytes)))
  for (let round = 0; round < 30; round++) {
    const { reader, frames, errors } = collect()
    let pos = 0
    while (pos < bytes.length) {
      const n = Math.min(bytes.length - pos, 1 + Math.floor(rnd() * (round < 10 ? 8 : 2000)))
      reader.push(bytes.subarray(pos, pos + n))
      pos += n
    }
    t.equal(errors.length, 0)
    t.equal(frames.length, many.length, `round ${round}`)
    t.ok(frames.every((f, i) => f.size === many[i].length && frameToBuffer(f).equals(many[i])), `round ${round} content`)
    t.ok(frames.every(f => f.chunks.every(c => c.buffer === bytes.buffer)), 'all chunks are views of the input')
    t.equal(reader.end(), true)
  }
})

t.test('frameHead: subarray when in the first chunk, a copy across chunks, clamped to size', async t => {
  const payload = Buffer.from('0123456789abcdef')
  const whole = own(frameBytes(payload))
  const { reader, frames } = collect()
  reader.push(whole.subarray(0, 7)) // 4-byte prefix + '012'
  reader.push(whole.subarray(7, 9)) // '34'
  reader.push(whole.subarray(9))
  t.equal(frames.length, 1)
  const f = frames[0]
  t.equal(f.chunks.length, 3)
  const head3 = frameHead(f, 3)
  t.equal(head3.toString(), '012')
  t.equal(head3.buffer, whole.buffer, 'within the first chunk: no copy')
  const head8 = frameHead(f, 8)
  t.equal(head8.toString(), '01234567')
  t.not(head8.buffer, whole.buffer, 'across chunks: a copy')
  t.equal(frameHead(f, 100).toString(), payload.toString(), 'clamped to the frame size')
  t.equal(frameHead(f, 0).length, 0)
  const joined = frameToBuffer(f)
  t.same(joined, payload)
})

t.test('a size above maxFrameSize is KPROXY_ERR_FRAME_TOO_LARGE and stops the reader', async t => {
  t.equal(DEFAULT_MAX_FRAME_SIZE, 100 * 1024 * 1024)
  const { reader, frames, errors } = collect({ maxFrameSize: 1000 })
  const big = Buffer.alloc(4)
  big.writeInt32BE(1001, 0)
  reader.push(Buffer.concat([frameBytes(Buffer.from('ok')), big]))
  t.equal(frames.length, 1, 'the frame before the bad size is delivered')
  t.equal(errors.length, 1)
  t.equal(errors[0].code, 'KPROXY_ERR_FRAME_TOO_LARGE')
  t.match(errors[0].message, /1001 bytes/)
  t.match(errors[0].message, /limit of 1000 bytes/)
  t.match(errors[0].message, /maxFrameSize/)
  t.equal(reader.stopped, true)
  reader.push(frameBytes(Buffer.from('ignored')))
  t.equal(frames.length, 1, 'input after an error is ignored')
  t.equal(errors.length, 1, 'one error only')
  t.equal(reader.end(), false)
  t.equal(errors.length, 1, 'end() after an error reports nothing more')
})

t.test('the default limit: TLS and HTTP bytes on a Kafka port get a hint', async t => {
  const tls = collect()
  tls.reader.push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))
  t.equal(tls.errors[0].code, 'KPROXY_ERR_FRAME_TOO_LARGE')
  t.match(tls.errors[0].message, /TLS/)
  const http = collect()
  http.reader.push(Buffer.from('GET / HTTP/1.1\r\n'))
  t.equal(http.errors[0].code, 'KPROXY_ERR_FRAME_TOO_LARGE')
  t.match(http.errors[0].message, /HTTP/)
})

t.test('negative and zero sizes are KPROXY_ERR_FRAME_INVALID_SIZE', async t => {
  const neg = collect()
  neg.reader.push(Buffer.from([0xff, 0xff]))
  t.same(neg.errors, [], 'not decided before the 4 bytes are there')
  neg.reader.push(Buffer.from([0xff, 0xfe, 1, 2, 3]))
  t.equal(neg.errors.length, 1)
  t.equal(neg.errors[0].code, 'KPROXY_ERR_FRAME_INVALID_SIZE')
  t.match(neg.errors[0].message, /-2 bytes/)
  const zero = collect()
  zero.reader.push(Buffer.from([0, 0, 0, 0]))
  t.equal(zero.errors[0].code, 'KPROXY_ERR_FRAME_INVALID_SIZE')
  t.equal(zero.frames.length, 0)
})

t.test('allowEmptyFrames (SASL v0 raw tokens) delivers zero-length frames', async t => {
  const { reader, frames, errors } = collect({ allowEmptyFrames: true })
  reader.push(Buffer.concat([frameBytes(Buffer.alloc(0)), frameBytes(Buffer.from('tok')), frameBytes(Buffer.alloc(0))]))
  t.same(errors, [])
  t.same(frames.map(f => f.size), [0, 3, 0])
  t.same(frames[0].chunks, [])
  t.equal(frameToBuffer(frames[0]).length, 0)
  t.equal(frameHead(frames[0], 4).length, 0)
  reader.allowEmptyFrames = false
  reader.push(frameBytes(Buffer.alloc(0)))
  t.equal(errors[0].code, 'KPROXY_ERR_FRAME_INVALID_SIZE')
})

t.test('end() with a partial frame or partial size prefix is KPROXY_ERR_FRAME_TRUNCATED', async t => {
  const a = collect()
  a.reader.push(frameBytes(Buffer.from('complete')))
  a.reader.push(frameBytes(Buffer.from('partial payload')).subarray(0, 10))
  t.equal(a.reader.pending, true)
  t.equal(a.reader.bufferedBytes, 6)
  t.equal(a.reader.end(), false)
  t.equal(a.frames.length, 1)
  t.equal(a.errors[0].code, 'KPROXY_ERR_FRAME_TRUNCATED')
  t.match(a.errors[0].message, /6 of the 15 payload bytes/)
  t.equal(a.reader.bufferedBytes, 0, 'references released')

  const b = collect()
  b.reader.push(Buffer.from([0, 0]))
  t.equal(b.reader.pending, true)
  t.equal(b.reader.bufferedBytes, 2)
  b.reader.end()
  t.match(b.errors[0].message, /2 of the 4 bytes of a frame size/)
  b.reader.push(frameBytes(Buffer.from('late')))
  t.equal(b.frames.length, 0, 'input after end() is ignored')
})

t.test('a 2 GiB claim with 10 bytes sent allocates nothing proportional to the claim', async t => {
  const { reader, frames, errors } = collect({ maxFrameSize: 2 ** 31 - 1 })
  const before = process.memoryUsage().arrayBuffers
  const pushed: Buffer[] = []
  const head = own([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]) // size 2147483647 + 3 bytes
  pushed.push(head)
  reader.push(head)
  for (let i = 0; i < 1000; i++) {
    const c = own([i & 0xff, 1, 2, 3, 4, 5, 6])
    pushed.push(c)
    reader.push(c)
  }
  t.same(errors, [])
  t.equal(frames.length, 0)
  t.equal(reader.pending, true)
  t.equal(reader.bufferedBytes, 3 + 7000)
  const held = reader.pendingChunks
  t.equal(held.length, 1001)
  let heldBytes = 0
  for (let i = 0; i < held.length; i++) {
    heldBytes += held[i].length
    if (held[i].buffer !== pushed[i].buffer) t.fail(`held chunk ${i} is not a view of the pushed chunk`)
  }
  t.equal(heldBytes, 7003, 'the reader holds exactly the pushed payload bytes, no copies')
  const grown = process.memoryUsage().arrayBuffers - before
  t.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${grown} bytes only`)
  reader.end()
  t.equal(errors[0].code, 'KPROXY_ERR_FRAME_TRUNCATED')
  t.match(errors[0].message, /7003 of the 2147483647/)
})

t.test('an exception thrown by onFrame propagates and stops the reader', async t => {
  let calls = 0
  const reader = new FrameReader({
    onFrame: () => { calls++; throw new Error('owner bug') },
    onError: () => t.fail('no onError')
  })
  t.throws(() => reader.push(stream), /owner bug/)
  t.equal(calls, 1)
  t.equal(reader.stopped, true)
  reader.push(stream)
  t.equal(calls, 1)
})

t.test('invalid options are refused', async t => {
  t.throws(() => new FrameReader({ maxFrameSize: 0, onFrame: () => {}, onError: () => {} }), RangeError)
  t.throws(() => new FrameReader({ maxFrameSize: 1.5, onFrame: () => {}, onError: () => {} }), RangeError)
})
