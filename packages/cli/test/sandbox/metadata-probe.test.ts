import t from 'tap'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { parseMetadataBrokers, probeBrokerIds } from '../../src/sandbox/metadata-probe.ts'
import { canConnect, freePorts } from '../../src/sandbox/ports.ts'
import { freePort } from '../../../workers/test/free-port.ts'

// MetadataResponse v1 after the size prefix: correlation id, brokers, controller id, topics.
function metadataResponse (brokers: Array<{ id: number, host: string, port: number, rack: string | null }>, correlationId = 0x6b70): Buffer {
  const parts: Buffer[] = []
  const i32 = (v: number): void => { const b = Buffer.alloc(4); b.writeInt32BE(v); parts.push(b) }
  const str = (s: string | null): void => {
    const b = Buffer.alloc(2)
    if (s === null) { b.writeInt16BE(-1); parts.push(b); return }
    b.writeInt16BE(Buffer.byteLength(s)); parts.push(b, Buffer.from(s))
  }
  i32(correlationId)
  i32(brokers.length)
  for (const b of brokers) { i32(b.id); str(b.host); i32(b.port); str(b.rack) }
  i32(brokers[0]?.id ?? -1)
  i32(0)
  return Buffer.concat(parts)
}

t.test('parses broker ids, skipping hosts and racks', async t => {
  const frame = metadataResponse([{ id: 3, host: '127.0.0.1', port: 1, rack: 'r1' }, { id: 1, host: 'localhost', port: 2, rack: null }])
  t.same(parseMetadataBrokers(frame), [1, 3])
  t.same(parseMetadataBrokers(metadataResponse([])), [])
  t.throws(() => parseMetadataBrokers(metadataResponse([], 7)))
})

t.test('probe sends a Metadata v1 request and reads the answer', async t => {
  let request: Buffer | null = null
  const server = createServer(socket => {
    socket.once('data', data => {
      request = data
      const body = metadataResponse([{ id: 2, host: '127.0.0.1', port: 9, rack: null }])
      const size = Buffer.alloc(4)
      size.writeInt32BE(body.length)
      // Split the answer to exercise reassembly.
      socket.write(Buffer.concat([size, body]).subarray(0, 6))
      setTimeout(() => socket.end(Buffer.concat([size, body]).subarray(6)), 20)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo
  t.same(await probeBrokerIds('127.0.0.1', port), [2])
  const req = request as unknown as Buffer
  t.equal(req.readInt32BE(0), req.length - 4, 'size prefix')
  t.equal(req.readInt16BE(4), 3, 'api key Metadata')
  t.equal(req.readInt16BE(6), 1, 'version 1')
  t.equal(req.readInt32BE(req.length - 4), 0, 'no topics')
})

t.test('probe gives null for a closed port or a silent peer', async t => {
  const port = await freePort()
  t.equal(await probeBrokerIds('127.0.0.1', port), null)
  t.equal(await canConnect('127.0.0.1', port), false)
  const silent = createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => silent.close())
  const { port: silentPort } = silent.address() as AddressInfo
  t.equal(await canConnect('127.0.0.1', silentPort), true)
  t.equal(await probeBrokerIds('127.0.0.1', silentPort, 200), null)
})

t.test('freePorts hands out distinct ports', async t => {
  const ports = await freePorts(9)
  t.equal(new Set(ports).size, 9)
  t.ok(ports.every(p => p >= 20_000 && p < 32_768), 'below the ephemeral range')
})
