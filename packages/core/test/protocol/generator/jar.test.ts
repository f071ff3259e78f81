import t from 'tap'
import { existsSync } from 'node:fs'
import { deflateRawSync } from 'node:zlib'
import { Jar } from '../../../src/protocol/generator/jar.ts'
import { defaultJarPath } from '../../../src/protocol/generator/main.ts'

// A minimal zip: local headers + central directory + end record (APPNOTE.TXT), no data descriptors.
function makeZip (entries: Array<{ name: string, data: Buffer, method: 0 | 8 }>, comment = ''): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const body = e.method === 8 ? deflateRawSync(e.data) : e.data
    const name = Buffer.from(e.name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(e.method, 8)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(e.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    const extra = Buffer.from([1, 2, 3])
    local.writeUInt16LE(extra.length, 28)
    locals.push(local, name, extra, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(e.method, 10)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(e.data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += 30 + name.length + extra.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  end.writeUInt16LE(comment.length, 20)
  return Buffer.concat([...locals, cd, end, Buffer.from(comment)])
}

t.test('stored and deflated entries, found through the central directory', async t => {
  const text = 'hello '.repeat(100)
  const zip = makeZip([
    { name: 'a/stored.txt', data: Buffer.from('plain'), method: 0 },
    { name: 'a/deflated.json', data: Buffer.from(text), method: 8 },
    { name: 'b/other', data: Buffer.alloc(0), method: 0 }
  ], 'a trailing archive comment')
  const jar = new Jar('test.zip', zip)
  t.same(jar.list(), ['a/stored.txt', 'a/deflated.json', 'b/other'])
  t.same(jar.list('a/'), ['a/stored.txt', 'a/deflated.json'])
  t.equal(jar.readText('a/stored.txt'), 'plain')
  t.equal(jar.readText('a/deflated.json'), text)
  t.equal(jar.read('b/other').length, 0)
  t.throws(() => jar.read('missing'), { code: 'KPROXY_ERR_JAR', message: /no entry missing/ })
})

t.test('damaged archives are refused with KPROXY_ERR_JAR', async t => {
  const good = makeZip([{ name: 'x', data: Buffer.from('data'), method: 8 }])
  t.throws(() => new Jar('empty.jar', Buffer.alloc(100)), { code: 'KPROXY_ERR_JAR', message: /no end of central directory record.*kproxy sandbox fetch/ })
  const zip64 = Buffer.from(good)
  zip64.writeUInt16LE(0xffff, zip64.length - 22 + 10)
  t.throws(() => new Jar('z.jar', zip64), { message: /zip64/ })
  const badCentral = Buffer.from(good)
  badCentral.writeUInt32LE(0, badCentral.readUInt32LE(badCentral.length - 22 + 16))
  t.throws(() => new Jar('c.jar', badCentral), { message: /central directory entry 0 is damaged/ })
  const badLocal = Buffer.from(good)
  badLocal.writeUInt32LE(0, 0)
  t.throws(() => new Jar('l.jar', badLocal).read('x'), { message: /local header of x is damaged/ })
  const badMethod = makeZip([{ name: 'x', data: Buffer.from('data'), method: 0 }])
  badMethod.writeUInt16LE(12, badMethod.length - 22 - 47 + 10)
  t.throws(() => new Jar('m.jar', badMethod).read('x'), { message: /compression method 12/ })
  const badSize = makeZip([{ name: 'x', data: Buffer.from('data'), method: 0 }])
  badSize.writeUInt32LE(5, badSize.length - 22 - 47 + 24)
  t.throws(() => new Jar('s.jar', badSize).read('x'), { message: /x inflated to 4 bytes, expected 5/ })
  const truncated = makeZip([{ name: 'x', data: Buffer.from('data'), method: 0 }])
  truncated.writeUInt32LE(5000, truncated.length - 22 - 47 + 20)
  t.throws(() => new Jar('t.jar', truncated).read('x'), { message: /x is truncated/ })
})

t.test('the pinned kafka-clients jar holds the 198 message definitions', { skip: existsSync(defaultJarPath()) ? false : 'the Kafka jars are not downloaded (pnpm exec kproxy sandbox fetch)' }, async t => {
  const jar = new Jar(defaultJarPath())
  const defs = jar.list('common/message/').filter(n => n.endsWith('.json'))
  t.equal(defs.length, 198)
  t.match(jar.readText('common/message/MetadataRequest.json'), /"apiKey": 3,/)
  t.ok(jar.entries.size > 1000, `${jar.entries.size} entries`)
})
