// The public filter API: what a filter declares, what it sees and what it may answer. Built-in
// filters and user filters (a module named in the config file) implement the same contract, and
// docs/filters.md documents it with a complete example.
//
// Everything here is types plus a few plain constructors, so that a user module can write
// `import type { FilterFactory } from '@kproxy/workers/filters/filter-api'` (erased at run time)
// and return plain objects: it needs nothing from kproxy at run time.
//
// The cost model: a filter declares, per API key and version range, whether it wants requests
// and/or responses, at header or body level. The chain compiles the declarations into lookup
// tables; a frame no filter wants is forwarded as the bytes that arrived, without being decoded or
// copied. A body is decoded on first access to `.body`, so a filter may look at the frame or the
// header first and decode only when it has to.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import type { RecordsVisitor } from '@kproxy/core/protocol/records-scan'
import type { RequestHeader, ResponseHeader } from '@kproxy/core/protocol/headers'
import type { Logger } from 'pino'

// 'header': the request header (client id) without the body; 'body': the decoded body too (on
// first access). For responses, 'header' gives the raw frame and correlation id only.
export type InterestLevel = 'header' | 'body'

export interface ApiInterest {
  // API keys by number or by Kafka's name ('Produce', 'Metadata'), or 'all'
  readonly apiKeys: ReadonlyArray<number | string> | 'all'
  // version range, inclusive; default every version
  readonly minVersion?: number
  readonly maxVersion?: number
  // default 'body'
  readonly level?: InterestLevel
}

export interface FilterInterests {
  readonly requests?: readonly ApiInterest[]
  readonly responses?: readonly ApiInterest[]
}

export interface ListenerInfo {
  // 'broker' in broker mode (the bootstrap port and the ports standing for brokers)
  readonly name: string
  readonly port: number
  readonly tls: boolean
}

// One client connection, as every filter sees it.
export interface ConnectionContext {
  // unique within the worker thread
  readonly id: number
  readonly workerId: number
  readonly peer: { readonly address: string, readonly port: number }
  readonly listener: ListenerInfo
  // who the client is: from its verified certificate today (mapping rules), 'ANONYMOUS' otherwise
  readonly principal: string
  // the client id of the last request that carried one
  readonly clientId: string | null
  // from ApiVersions v3+ (KIP-511), null before it or for older clients
  readonly clientSoftwareName: string | null
  readonly clientSoftwareVersion: string | null
  // per-connection state of filters; key it with something of your own (a symbol, your filter)
  readonly attributes: Map<unknown, unknown>
  // KIP-219: read no request from this connection for `ms` (what a quota does after answering
  // with throttle_time_ms). Responses still flow.
  throttle (ms: number): void
}

export interface FilterRequest {
  readonly connection: ConnectionContext
  readonly apiKey: number
  // the version the client sent (and gets its answer at)
  readonly apiVersion: number
  // The version the request goes upstream at: apiVersion unless a filter converted the body to
  // another version of the same API (the version bridge) and set it, which re-encodes the body
  // at that version. The upstream's answer then comes back at this version, filters nearer the
  // upstream see requests and answers at it, and kproxy re-encodes the answer at apiVersion for
  // the client. Answers a filter makes (respond, error) are encoded at the version current at
  // that point of the chain. Filters are chosen by apiVersion.
  upstreamVersion: number
  readonly correlationId: number
  // false for Produce with acks=0: the client expects no response, an answer is dropped
  readonly expectsResponse: boolean
  // the request as it arrived, payload only (no size prefix); do not keep it past the call
  readonly frame: Frame
  // decoded on first access
  readonly header: RequestHeader
  // decoded on first access (needs body-level interest in this key and version); assigning a new
  // body, or calling markChanged() after editing it in place, re-encodes it when forwarded
  body: any
  markChanged (): void
  readonly changed: boolean
  // Produce requests (v3-13): each topic (interned: the same name is the same string) and each of
  // its partitions with its record bytes, read from the frame as it arrived without decoding the
  // body or copying the records — the cheap way to ask "which topics and partitions". Needs only
  // header-level interest. False when it cannot tell (another API, a version it does not read, a
  // body an earlier filter changed, a malformed frame): then read `body`.
  scanRecords (visitor: RecordsVisitor): boolean
  // state a filter keeps from a request to its response (`attributes.get(this)` in onResponse)
  readonly attributes: Map<unknown, unknown>
}

export interface FilterResponse {
  readonly request: FilterRequest
  readonly apiKey: number
  // the version of `frame` and `body`: request.upstreamVersion (the client's apiVersion unless a
  // filter changed it); the client gets the answer re-encoded at request.apiVersion
  readonly apiVersion: number
  readonly correlationId: number
  // the response as the upstream sent it (payload, no size prefix); null when kproxy made it
  readonly frame: Frame | null
  readonly header: ResponseHeader
  // decoded on first access; assign or markChanged() to re-encode
  body: any
  markChanged (): void
  readonly changed: boolean
}

// What a filter may do with a request instead of passing it on (returning nothing passes it on
// to the next filter, then to the upstream).
export type RequestAction =
  // answer with this response body (encoded at the request's version)
  | { readonly kind: 'respond', readonly body: unknown }
  // answer with this Kafka error everywhere the response has room for one (top level, per topic,
  // per partition, ...), as a broker's authorizer does; errorCode by number or name
  | { readonly kind: 'error', readonly errorCode: number | string, readonly message?: string }
  // answer with this complete response frame (size prefix included)
  | { readonly kind: 'frames', readonly frames: readonly Buffer[] }
  // close the connection (requests in flight fail, as when a broker goes away)
  | { readonly kind: 'close', readonly reason: string }

export type ResponseAction =
  | { readonly kind: 'frames', readonly frames: readonly Buffer[] }
  | { readonly kind: 'close', readonly reason: string }

// A result or a promise of one: a promise holds the request (the connection's later requests wait
// behind it, in order; everything else goes on) until it settles or the hold deadline passes.
export type Verdict<A> = A | undefined | void | Promise<A | undefined | void>

export interface Filter {
  readonly interests: FilterInterests
  onRequest? (request: FilterRequest): Verdict<RequestAction>
  onResponse? (response: FilterResponse): Verdict<ResponseAction>
  onConnectionOpen? (connection: ConnectionContext): void
  onConnectionClose? (connection: ConnectionContext): void
  // the chain was replaced (reload) or the worker stops
  close? (): void
}

// A counter a filter owns: /metrics shows it as kproxy_filter_events_total{filter, event}.
export interface FilterCounter {
  inc (n?: number): void
}

export interface FilterEnvironment {
  // a child logger with { filter: name }
  readonly logger: Logger
  readonly workerId: number
  counter (event: string): FilterCounter
}

// What a filter module exports (as `default`, or as `filter`), and what a built-in filter is.
export interface FilterFactory<C = unknown> {
  readonly name: string
  // Checks the `config:` block of the filter's entry; returns the config to create() with, or
  // throws an Error whose message (one problem per line) is shown with file, key and filter name.
  parseConfig? (config: unknown): C
  create (config: C, env: FilterEnvironment): Filter
}

export function defineFilter<C> (factory: FilterFactory<C>): FilterFactory<C> {
  return factory
}

export function respond (body: unknown): RequestAction {
  return { kind: 'respond', body }
}

export function respondWithError (errorCode: number | string, message?: string): RequestAction {
  return message === undefined ? { kind: 'error', errorCode } : { kind: 'error', errorCode, message }
}

export function closeConnection (reason: string): { readonly kind: 'close', readonly reason: string } {
  return { kind: 'close', reason }
}
