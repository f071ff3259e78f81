// Every client connection starts with ApiVersions, and a broker's answer only changes when its
// software or finalized features do; intersecting it (api-versions.ts) is a full decode and
// encode. The last answer per request version is kept: when the broker's bytes after the
// correlation id are the same as last time, the kept output goes out again with the new
// correlation id. ApiVersions responses always use response header v0:
//   frame := size int32, correlationId int32, body
// so the correlation id sits at bytes 4..8 of the output frame (size prefix included).
import { intersectApiVersionsResponse } from './api-versions.ts'
import type { IntersectOptions } from './api-versions.ts'

interface Kept {
  // the broker's payload after its correlation id (a copy)
  input: Buffer
  // the whole output frame, size prefix included; null: forward the broker's answer as it is
  output: Buffer | null
}

export class ApiVersionsMemo {
  readonly #kept = new Map<number, Kept>()
  readonly #options: IntersectOptions

  // the options of every intersection (a memo per set of options); `learn` sees each answer that
  // differs from the last one
  constructor (options: IntersectOptions = {}) {
    this.#options = options
  }

  // Same contract as intersectApiVersionsResponse: the frames to send, or null to forward.
  intersect (payload: Buffer, apiVersion: number): Buffer[] | null {
    const kept = this.#kept.get(apiVersion)
    if (kept !== undefined && payload.length >= 4 && kept.input.length === payload.length - 4 &&
        kept.input.equals(payload.subarray(4))) {
      const out = kept.output
      if (out === null) return null
      const copy = Buffer.allocUnsafe(out.length)
      out.copy(copy)
      payload.copy(copy, 4, 0, 4)
      return [copy]
    }
    const result = intersectApiVersionsResponse(payload, apiVersion, this.#options)
    this.#kept.set(apiVersion, {
      input: Buffer.from(payload.subarray(4)),
      output: result === null ? null : Buffer.concat(result)
    })
    return result
  }
}
