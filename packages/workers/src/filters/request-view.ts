// The request and response objects filters see (FilterRequest, FilterResponse). Made only for a
// frame some filter is interested in; the header and the body are decoded on first access, so a
// filter that looks at the API key, the frame size or the client id never pays for a decode.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { frameHead, frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { RecordsScanner } from '@kproxy/core/protocol/records-scan'
import type { RecordsVisitor } from '@kproxy/core/protocol/records-scan'
import { readRequestHeader, readResponseHeader } from '@kproxy/core/protocol/headers'
import type { ReadRequestHeader, RequestHeader, ResponseHeader } from '@kproxy/core/protocol/headers'
import { decodableApi, encodeRequest, encodeResponse } from '@kproxy/core/protocol/codec'
import { Reader } from '@kproxy/core/protocol/primitives/reader'
import { KproxyError, isKproxyError } from '@kproxy/core/kproxy-error'
import type { ConnectionContext, FilterRequest, FilterResponse } from './filter-api.ts'

const UNDECODED: unknown = Symbol('undecoded')
// enough for a request header with a client id of usual length and its tagged fields

// A request header is apiKey, apiVersion, correlationId, clientId (int16 length even in flexible
// headers) and, from header v2, tagged fields (nearly always none: one byte). It is read from the
// frame's first bytes, so that a filter reading the client id of a produce request whose records
// span several socket reads does not copy the records into one buffer.
const HEADER_FIXED_BYTES = 10
const CLIENT_ID_LENGTH_OFFSET = 8
const HEADER_TAGS_PEEK = 64

// One per worker thread: scans are synchronous, and its interned topic names are shared.
const RECORDS_SCANNER = new RecordsScanner()

function released (what: string): KproxyError {
  return new KproxyError('KPROXY_ERR_FILTER_API', `the request's ${what} is gone: it was forwarded without being read; a filter that needs it in onResponse declares request interest in that API key and reads it in onRequest`)
}

export class RequestView implements FilterRequest {
  readonly connection: ConnectionContext
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly expectsResponse: boolean
  #frame: Frame | null
  #payload: Buffer | null = null
  #header: ReadRequestHeader | null = null
  #body: unknown = UNDECODED
  #changed = false
  #attributes: Map<unknown, unknown> | null = null
  #upstreamVersion: number

  constructor (connection: ConnectionContext, frame: Frame | null, apiKey: number, apiVersion: number, correlationId: number, expectsResponse: boolean) {
    this.connection = connection
    this.#frame = frame
    this.apiKey = apiKey
    this.apiVersion = apiVersion
    this.#upstreamVersion = apiVersion
    this.correlationId = correlationId
    this.expectsResponse = expectsResponse
  }

  get frame (): Frame {
    if (this.#frame === null) throw released('frame')
    return this.#frame
  }

  // the payload as one buffer (a copy only when the frame spans several chunks)
  get payload (): Buffer {
    return (this.#payload ??= frameToBuffer(this.frame))
  }

  // The request has gone upstream: drop the references to its bytes (a produce request's records
  // should not stay in memory until its response) unless a filter decoded it.
  release (): void {
    this.#frame = null
    if (this.#body === UNDECODED) this.#payload = null
  }

  // whether the header has been decoded (by a filter, or for the body)
  get headerRead (): boolean { return this.#header !== null }

  get header (): RequestHeader {
    if (this.#header === null && this.#frame === null && this.#payload === null) throw released('header')
    return (this.#header ??= this.#readHeader())
  }

  #readHeader (): ReadRequestHeader {
    const frame = this.#frame
    if (this.#payload !== null || frame === null || frame.chunks.length <= 1) return readRequestHeader(this.payload)
    const fixed = frameHead(frame, HEADER_FIXED_BYTES)
    const clientIdLength = fixed.length === HEADER_FIXED_BYTES ? fixed.readInt16BE(CLIENT_ID_LENGTH_OFFSET) : 0
    const want = HEADER_FIXED_BYTES + Math.max(0, clientIdLength) + HEADER_TAGS_PEEK
    if (want < frame.size) {
      try {
        return readRequestHeader(frameHead(frame, want))
      } catch {
        // longer tagged fields than the peek: read it from the whole payload below
      }
    }
    return readRequestHeader(this.payload)
  }

  scanRecords (visitor: RecordsVisitor): boolean {
    // a body a filter changed is what goes upstream, not the frame
    if (this.apiKey !== ApiKey.Produce || this.#changed || this.#frame === null) return false
    return RECORDS_SCANNER.produceRequest(this.#frame, this.apiVersion, visitor)
  }

  get body (): any {
    if (this.#body === UNDECODED) {
      if (this.#frame === null && this.#payload === null) throw released('body')
      const api = decodableApi(this.apiKey, this.apiVersion)
      const header = this.#header ?? (this.#header = this.#readHeader())
      const r = new Reader(this.payload, header.headerLength)
      const what = `${api.name} request v${this.apiVersion}`
      try {
        this.#body = api.request.decode(r, this.apiVersion)
        r.end(what)
      } catch (err) {
        throw new KproxyError('KPROXY_ERR_DECODE', `cannot decode ${what}: ${isKproxyError(err) ? err.message : (err as Error).message}`, { cause: err })
      }
    }
    return this.#body
  }

  set body (value: any) {
    this.#body = value
    this.#changed = true
  }

  get decoded (): boolean { return this.#body !== UNDECODED }

  get upstreamVersion (): number { return this.#upstreamVersion }

  // A filter converted the body to another version of the API: it is re-encoded at that version.
  set upstreamVersion (version: number) {
    if (version === this.#upstreamVersion) return
    decodableApi(this.apiKey, version) // KPROXY_ERR_UNSUPPORTED_VERSION for a version kproxy cannot write
    if (this.#body === UNDECODED) void this.body
    this.#upstreamVersion = version
    this.#changed = true
  }

  markChanged (): void { this.#changed = true }
  get changed (): boolean { return this.#changed }

  get attributes (): Map<unknown, unknown> {
    return (this.#attributes ??= new Map())
  }

  // The request as frames to send upstream (size prefix included): only for a changed body.
  encode (): Buffer[] {
    const h = this.header
    return encodeRequest({ apiKey: this.apiKey, apiVersion: this.#upstreamVersion, correlationId: this.correlationId, clientId: h.clientId, ...(h._unknownTaggedFields !== undefined ? { _unknownTaggedFields: h._unknownTaggedFields } : {}) }, this.#body, 'decodable')
  }
}

export class ResponseView implements FilterResponse {
  readonly request: RequestView
  readonly frame: Frame | null
  #frames: readonly Buffer[] | null
  #payload: Buffer | null = null
  #header: ResponseHeader | null = null
  #body: unknown = UNDECODED
  #changed = false

  // `frame`: the upstream's response; `frames`: a response kproxy made (size prefix included)
  constructor (request: RequestView, frame: Frame | null, frames: readonly Buffer[] | null) {
    this.request = request
    this.frame = frame
    this.#frames = frames
  }

  get apiKey (): number { return this.request.apiKey }
  // the version of the frame and the body (the upstream's); the client's is request.apiVersion
  get apiVersion (): number { return this.request.upstreamVersion }
  get correlationId (): number { return this.request.correlationId }

  get payload (): Buffer {
    if (this.#payload === null) {
      this.#payload = this.frame !== null ? frameToBuffer(this.frame) : Buffer.concat(this.#frames as Buffer[]).subarray(4)
    }
    return this.#payload
  }

  #decode (): void {
    const api = decodableApi(this.apiKey, this.apiVersion)
    const r = new Reader(this.payload)
    const what = `${api.name} response v${this.apiVersion}`
    try {
      this.#header = readResponseHeader(r, api.responseHeaderVersion(this.apiVersion))
      this.#body = api.response.decode(r, this.apiVersion)
      r.end(what)
    } catch (err) {
      throw new KproxyError('KPROXY_ERR_DECODE', `cannot decode ${what}: ${isKproxyError(err) ? err.message : (err as Error).message}`, { cause: err })
    }
  }

  get header (): ResponseHeader {
    if (this.#header === null) this.#decode()
    return this.#header!
  }

  get body (): any {
    if (this.#body === UNDECODED) this.#decode()
    return this.#body
  }

  set body (value: any) {
    if (this.#header === null) this.#header = { correlationId: this.correlationId }
    this.#body = value
    this.#changed = true
  }

  markChanged (): void { this.#changed = true }
  get changed (): boolean { return this.#changed }

  // Replaces the response by finished frames (a filter's 'frames' action): later filters see them.
  replaceFrames (frames: readonly Buffer[]): void {
    this.#frames = frames
    this.#payload = null
    this.#header = null
    this.#body = UNDECODED
    this.#changed = false
    ;(this as { frame: Frame | null }).frame = null
  }

  // null: the upstream frame goes out unchanged. An answer at another version than the client's
  // (a filter changed request.upstreamVersion) is always re-encoded at the client's.
  output (): readonly Buffer[] | null {
    const clientVersion = this.request.apiVersion
    if (this.#changed || clientVersion !== this.request.upstreamVersion) {
      const body = this.body
      return encodeResponse(this.apiKey, clientVersion, this.#header ?? { correlationId: this.correlationId }, body, 'decodable')
    }
    return this.frame !== null ? null : this.#frames
  }
}
