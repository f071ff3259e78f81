import { createConnection } from 'node:net'

// A single Metadata request asking for no topics, to learn which brokers a node currently
// reports as alive (registered and unfenced). Hand-written because the sandbox must not depend on
// the proxy's codecs it is used to test.
//
// Request (size-prefixed), header v1 + MetadataRequest v1:
//   int32 size | int16 api_key=3 | int16 api_version=1 | int32 correlation_id
//   | int16 client_id length + bytes | int32 topics count (0 = no topics; -1 would mean all)
// Response, header v0 + MetadataResponse v1:
//   int32 size | int32 correlation_id | int32 brokers count
//   | brokers: int32 node_id, int16+bytes host, int32 port, int16+bytes rack (-1 = null)
//   | int32 controller_id | topics ...
const CLIENT_ID = 'kproxy-sandbox'
const CORRELATION_ID = 0x6b70

function metadataRequest (): Buffer {
  const id = Buffer.from(CLIENT_ID, 'utf8')
  const body = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length + 4)
  let o = body.writeInt32BE(body.length - 4, 0)
  o = body.writeInt16BE(3, o)
  o = body.writeInt16BE(1, o)
  o = body.writeInt32BE(CORRELATION_ID, o)
  o = body.writeInt16BE(id.length, o)
  o += id.copy(body, o)
  body.writeInt32BE(0, o)
  return body
}

export function parseMetadataBrokers (frame: Buffer): number[] {
  // frame excludes the size prefix
  if (frame.readInt32BE(0) !== CORRELATION_ID) throw new Error('unexpected correlation id')
  const count = frame.readInt32BE(4)
  const ids: number[] = []
  let o = 8
  for (let i = 0; i < count; i++) {
    ids.push(frame.readInt32BE(o))
    o += 4
    o += 2 + frame.readInt16BE(o) // host
    o += 4 // port
    const rack = frame.readInt16BE(o)
    o += 2 + (rack < 0 ? 0 : rack)
  }
  return ids.sort((a, b) => a - b)
}

// Resolves the sorted broker ids the node reports, or null on any failure or timeout.
export function probeBrokerIds (host: string, port: number, timeoutMs = 2000): Promise<number[] | null> {
  return new Promise(resolve => {
    const socket = createConnection({ host, port })
    let received = Buffer.alloc(0)
    const done = (ids: number[] | null): void => {
      socket.destroy()
      resolve(ids)
    }
    socket.setTimeout(timeoutMs, () => done(null))
    socket.once('error', () => done(null))
    socket.once('close', () => done(null))
    socket.once('connect', () => socket.write(metadataRequest()))
    socket.on('data', chunk => {
      // One small response: accumulating is fine here (not a hot path).
      received = Buffer.concat([received, chunk])
      if (received.length < 4) return
      const size = received.readInt32BE(0)
      if (received.length < 4 + size) return
      try {
        done(parseMetadataBrokers(received.subarray(4, 4 + size)))
      } catch {
        done(null)
      }
    })
  })
}
