// Puts a quota's delay in a response's throttle_time_ms (KIP-219), at the response's own version.
// Where the field sits at a fixed place (most APIs, Fetch among them: first in the body) the four
// bytes are overwritten in the upstream's frame, so a megabyte Fetch answer is neither decoded nor
// copied; otherwise (Produce, whose throttle time comes after its partitions; an answer a filter
// changed or made; an answer re-encoded at another version) it is set in the decoded body. A
// larger throttle time the broker asked for itself stays.
//
// The quota filter sits nearest the client in the chain, so its onResponse is the last to run:
// after it only the session's output() reads the view, which writes the frame as it is unless the
// body was changed (or the version differs), and then encodes the body.
import { raiseThrottleTimeMs } from '@kproxy/core/protocol/throttle-time'
import type { FilterResponse } from '../filters/filter-api.ts'

// false when the answer has no throttle_time_ms at all (SaslHandshake, an API without the field):
// the pause alone slows the client down. At a version older than the field (Produce v0, Fetch v0)
// the value set in the body is not written either, and the pause is again all there is.
export function setThrottleTime (response: FilterResponse, ms: number): boolean {
  const frame = response.frame
  if (frame !== null && !response.changed && response.request.upstreamVersion === response.request.apiVersion) {
    if (raiseThrottleTimeMs(frame, response.apiKey, response.apiVersion, ms) >= 0) return true
  }
  const body = response.body
  if (body === null || typeof body !== 'object' || typeof body.throttleTimeMs !== 'number') return false
  if (body.throttleTimeMs < ms) {
    body.throttleTimeMs = ms
    response.markChanged()
  }
  return true
}
