// What a session reports to the flow registry (stats.flows, docs/observability.md): the topics,
// partitions and record bytes of its Produce requests and responses and Fetch responses, scanned
// in place without a decode, under the connection's flow key (principal, client id, software,
// target). Also the throttle time of every response. One per session, made only when flows are on;
// with flows off the session calls throttle() only.
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import { frameToBuffer } from '@kproxy/core/protocol/frame-reader'
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeResponse } from '@kproxy/core/protocol/codec'
import { throttleTimeMs } from '@kproxy/core/protocol/throttle-time'
import type { FlowClient, FlowRegistry } from '@kproxy/core/metrics/flow-registry'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import type { SessionContext } from './session-context.ts'

const METADATA_TOPIC_IDS_MIN = 10

export class FlowRecorder {
  readonly #flows: FlowRegistry
  readonly #context: SessionContext
  readonly #target: string
  #client: FlowClient | null = null
  // the software name the client key was made with (ApiVersions v3+ may tell it later)
  #software: string | null = null

  constructor (flows: FlowRegistry, context: SessionContext, target: string) {
    this.#flows = flows
    this.#context = context
    this.#target = target
  }

  #key (): FlowClient {
    const c = this.#context
    if (this.#client === null || this.#software !== c.clientSoftwareName) {
      this.#software = c.clientSoftwareName
      this.#client = this.#flows.client({ principal: c.verifiedPrincipal, clientId: c.clientId, softwareName: c.clientSoftwareName, softwareVersion: c.clientSoftwareVersion, target: this.#target })
    }
    return this.#client
  }

  request (apiKey: number, apiVersion: number, frame: Frame): void {
    if (apiKey === ApiKey.Produce) this.#flows.produce(this.#key(), frame, apiVersion)
  }

  // An upstream answer (as it arrived); returns the throttle time it carries, -1 when none.
  response (apiKey: number, apiVersion: number, frame: Frame): number {
    if (apiKey === ApiKey.Produce) {
      this.#flows.produceResponse(this.#key(), frame, apiVersion)
      return this.#flows.lastThrottleTimeMs
    }
    if (apiKey === ApiKey.Fetch) {
      this.#flows.fetch(this.#key(), frame, apiVersion)
      return this.#flows.lastThrottleTimeMs
    }
    if (apiKey === ApiKey.Metadata && apiVersion >= METADATA_TOPIC_IDS_MIN) this.#learnTopicIds(frame, apiVersion)
    return throttleTimeMs(frame, apiKey, apiVersion)
  }

  // Produce and Fetch v13+ name topics by id: the names come from Metadata (a rare response).
  #learnTopicIds (frame: Frame, apiVersion: number): void {
    let body: any
    try {
      body = decodeResponse(frameToBuffer(frame), ApiKey.Metadata, apiVersion).body
    } catch {
      return // the session's own checks report a broken answer
    }
    for (const t of body.topics ?? []) if (typeof t.name === 'string' && typeof t.topicId === 'string') this.#flows.topicName(t.topicId, t.name)
  }
}

// The throttle time of an answer when flows are off (Produce's sits at the end: not read then).
export function recordThrottle (metrics: ProxyMetrics, apiKey: number, apiVersion: number, frame: Frame): void {
  const ms = throttleTimeMs(frame, apiKey, apiVersion)
  if (ms > 0) metrics.throttled(apiKey, ms)
}
