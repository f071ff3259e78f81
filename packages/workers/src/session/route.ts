// Where a session's requests go once the filters let them through, and how answers come back.
// Broker mode's route sends every request over the client's own upstream connection, as the
// bytes that arrived; mesh mode's splits a request over several clusters and merges the answers.
// A route answers each entry exactly once, through its RouteSink, in any order: the session puts
// responses back into request order.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { InFlight } from './in-flight.ts'

export interface Route {
  // true once requests can be sent (the upstream is connected); until then the session reads no
  // request
  readonly ready: boolean
  // true: forward() and writeRaw() may be given views of the client socket's static read buffers
  // (accepted-reads.ts), which the route writes before the read callback returns or holds (a
  // WriteBatch with slabViews) or copies (ownFrame) when it keeps them. Otherwise the session
  // copies each chunk first.
  readonly borrowsRequests?: boolean
  // Sends a request. `entry` is null for a request without response (Produce acks=0). Exactly one
  // of `frame` (the request as it arrived, forwarded without copying) and `frames` (re-encoded by
  // a filter, size prefix included) is set.
  forward (entry: InFlight | null, frame: Frame | null, frames: readonly Buffer[] | null): void
  // end of a socket event: write what forward() gathered
  flush (): void
  // the client does not read its responses: stop reading answers for it, and resume
  pauseAnswers (): void
  resumeAnswers (): void
  // SaslHandshake v0 succeeded: from now on bytes are relayed as they are, both ways
  passthrough (): void
  writeRaw (chunk: Buffer): void
  close (): void
  // the client authenticated (SASL) as `principal`: a route that carries the principal upstream
  // (upstreamIdentity: certificate) reconnects as it before the next request
  identify? (principal: string): void
  // fields for the connection's closing log line (e.g. the upstream address)
  describe? (): Record<string, unknown>
}

export interface RouteSink {
  // the route became ready (readyness changes only once)
  routeReady (): void
  // the upstream's write buffer is above its high-water mark (true) or drained (false)
  routeFull (full: boolean): void
  // the upstream's answer to `entry`, as it arrived
  answer (entry: InFlight, frame: Frame): void
  // an answer the route made (a merge, an error), size prefix included
  answerFrames (entry: InFlight, frames: readonly Buffer[]): void
  // all answers of one upstream socket event are in: write them
  flushAnswers (): void
  // passthrough bytes from the upstream
  rawAnswer (chunk: Buffer): void
  // the route cannot go on (upstream gone, protocol error): the session closes
  routeFailed (code: string, reason: string): void
}
