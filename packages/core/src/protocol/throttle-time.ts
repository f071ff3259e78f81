// The throttle time a broker put in a response (how long the client was held back by a quota),
// read at its place in the frame without a decode. In most responses ThrottleTimeMs is the first
// field of the body, right after the header; the table below says where it sits in each API (from
// the generated schemas) and Produce responses, which carry it at the end, are left to the
// records scanner (records-scan.ts).
//   response header   correlationId int32, [tagged fields] (flexible versions)
//   body              ThrottleTimeMs int32 first, or after fixed-width fields (OffsetDelete:
//                     ErrorCode int16, ThrottleTimeMs int32)
import { ChunkCursor } from './chunk-cursor.ts'
import type { Frame } from './frame-reader.ts'
import { API_TABLE } from './generated/api-table.ts'

const FIXED_WIDTH: Readonly<Record<string, number>> = { int8: 1, int16: 2, int32: 4, int64: 8 }

// "3+" or "0-12" -> lowest version
function lowest (versions: string): number {
  return Number.parseInt(versions, 10)
}

interface Place {
  // body offset of the field; -1: not at a fixed place in this API
  offset: number
  // first version that has the field (and every field before it)
  since: number
}

// apiKey -> where ThrottleTimeMs is, computed once from the schemas
const PLACES: Array<Place | undefined> = API_TABLE.map(api => {
  if (api === undefined) return undefined
  const fields = api.response.schema.fields
  let offset = 0
  let since = 0
  for (const f of fields) {
    if (f.tag !== undefined) continue // tagged: in the section at the end, not inline
    if (f.name === 'ThrottleTimeMs') return { offset, since: Math.max(since, lowest(f.versions)) }
    const width = FIXED_WIDTH[f.type]
    // a field before it of variable width, or one that comes and goes with the version
    if (width === undefined || lowest(f.versions) > 0 || f.versions.includes('-')) return { offset: -1, since: 0 }
    offset += width
    since = Math.max(since, lowest(f.versions))
  }
  return { offset: -1, since: 0 }
})

const cursor = new ChunkCursor()

// The response's throttle time in ms, or -1 when the API has none at a fixed place (Produce,
// ApiVersions, SaslAuthenticate...), the version has none, or the frame is too short.
export function throttleTimeMs (frame: Frame, apiKey: number, apiVersion: number): number {
  const place = PLACES[apiKey]
  if (place === undefined || place.offset < 0 || apiVersion < place.since) return -1
  const api = API_TABLE[apiKey]!
  cursor.start(frame)
  let value = -1
  if (cursor.skip(4) && (api.responseHeaderVersion(apiVersion) < 1 || cursor.skipTaggedFields()) && cursor.skip(place.offset)) {
    const v = cursor.int32()
    if (!Number.isNaN(v)) value = v
  }
  cursor.release()
  return value
}

// Raises the throttle time of a response in place to at least `ms` (a quota's delay, KIP-219; a
// larger value the broker set stays). Returns the value now in the frame, or -1 when the API has
// no throttle time at a fixed place at this version (the caller then sets it in the decoded body).
export function raiseThrottleTimeMs (frame: Frame, apiKey: number, apiVersion: number, ms: number): number {
  const place = PLACES[apiKey]
  if (place === undefined || place.offset < 0 || apiVersion < place.since) return -1
  const api = API_TABLE[apiKey]!
  const at = (c: ChunkCursor): boolean => c.skip(4) && (api.responseHeaderVersion(apiVersion) < 1 || c.skipTaggedFields()) && c.skip(place.offset)
  cursor.start(frame)
  let value = -1
  if (at(cursor)) {
    const v = cursor.int32()
    if (!Number.isNaN(v)) value = v
  }
  cursor.release()
  if (value < 0) return -1
  if (value >= ms) return value
  cursor.start(frame)
  const ok = at(cursor) && cursor.putInt32(ms)
  cursor.release()
  return ok ? ms : -1
}
