// Rewrites the broker addresses in responses so that a client never learns a real broker
// address: every host becomes the advertised host and every port the local port that stands for
// that node id. The real addresses are handed to `learn` first (the broker directory).
//
// | response                      | fields                                  | versions |
// | Metadata (3)                  | brokers[].{nodeId, host, port}          | all      |
// | FindCoordinator (10)          | nodeId / host / port                    | 0-3      |
// |                               | coordinators[].{nodeId, host, port}     | 4+       |
// | DescribeCluster (60)          | brokers[].{brokerId, host, port}        | all      |
// | Produce (0)                   | nodeEndpoints[] (tagged field 0)        | 10+      |
// | Fetch (1)                     | nodeEndpoints[] (tagged field 0)        | 16+      |
// | ShareFetch (78), ShareAcknowledge (79) | nodeEndpoints[]                | all      |
// DescribeQuorum's nodes are controllers, which clients never connect to: left alone.
//
// Only these responses are decoded (partially: record batches stay slices of the payload);
// everything else is forwarded as it came.
import { rewriteResponse } from '@kproxy/core/protocol/codec'
import type { Frame } from '@kproxy/core/protocol/frame-reader'
import {
  FETCH_SCAN_MAX_VERSION, FETCH_SCAN_MIN_VERSION, fetchTopLevelTagCount, PRODUCE_SCAN_MAX_VERSION, PRODUCE_SCAN_MIN_VERSION,
  produceTopLevelTagCount
} from './response-tag-scan.ts'
import { KproxyError } from '@kproxy/core/kproxy-error'

export interface RewriteTarget {
  // host name clients are told for a node id (one name for all, or one per broker with SNI)
  hostFor (nodeId: number): string
  // local port for a node id, -1 when none is configured
  portFor (nodeId: number): number
  // a real address seen in a response
  learn (nodeId: number, host: string, port: number): void
  // a non-zero error code seen in a decoded response (top level, or per coordinator)
  responseError? (apiKey: number, errorCode: number): void
}

const PRODUCE = 0
const FETCH = 1
const METADATA = 3
const FIND_COORDINATOR = 10
const DESCRIBE_CLUSTER = 60
const SHARE_FETCH = 78
const SHARE_ACKNOWLEDGE = 79

export function carriesAddresses (apiKey: number, apiVersion: number): boolean {
  switch (apiKey) {
    case METADATA:
    case FIND_COORDINATOR:
    case DESCRIBE_CLUSTER:
    case SHARE_FETCH:
    case SHARE_ACKNOWLEDGE:
      return true
    case PRODUCE: return apiVersion >= 10
    case FETCH: return apiVersion >= 16
    default: return false
  }
}

// carriesAddresses() for this very frame: a Produce or Fetch response without top-level tagged
// fields (no NodeEndpoints) is known to need nothing without decoding it.
export function frameNeedsRewrite (frame: Frame, apiKey: number, apiVersion: number): boolean {
  if (apiKey === FETCH && apiVersion >= FETCH_SCAN_MIN_VERSION && apiVersion <= FETCH_SCAN_MAX_VERSION) {
    return fetchTopLevelTagCount(frame) !== 0
  }
  if (apiKey === PRODUCE && apiVersion >= PRODUCE_SCAN_MIN_VERSION && apiVersion <= PRODUCE_SCAN_MAX_VERSION) {
    return produceTopLevelTagCount(frame, apiVersion) !== 0
  }
  return carriesAddresses(apiKey, apiVersion)
}

interface Endpoint { host: string, port: number }

// The target of the rewrite in progress: the edit callbacks below are module-level functions
// (no closure per response) and read it from here; rewrites are synchronous.
let target: RewriteTarget | null = null
let version = 0
let currentApiKey = 0

function seenError (errorCode: number | undefined): void {
  if (errorCode !== undefined && errorCode !== 0) target!.responseError?.(currentApiKey, errorCode)
}

function mapEndpoint (nodeId: number, e: Endpoint): void {
  const t = target!
  // FindCoordinator v0-3 with an error carries nodeId -1 and an empty host: nothing to map.
  if (nodeId < 0) return
  t.learn(nodeId, e.host, e.port)
  const port = t.portFor(nodeId)
  if (port < 0) {
    throw new KproxyError('KPROXY_ERR_BROKER_PORT_UNMAPPED',
      `A response names upstream broker ${nodeId}, which has no local port; add it to brokerPorts so that clients can reach it through kproxy.`)
  }
  e.host = t.hostFor(nodeId)
  e.port = port
}

function editNodes (list: Array<Endpoint & { nodeId: number }> | null | undefined): boolean {
  if (list == null || list.length === 0) return false
  for (const n of list) mapEndpoint(n.nodeId, n)
  return true
}

function editMetadata (body: any): boolean {
  seenError(body.errorCode)
  return editNodes(body.brokers)
}

function editFindCoordinator (body: any): boolean {
  if (version >= 4) {
    for (const c of body.coordinators) seenError(c.errorCode)
    return editNodes(body.coordinators)
  }
  seenError(body.errorCode)
  if (body.nodeId < 0) return false
  mapEndpoint(body.nodeId, body)
  return true
}

function editDescribeCluster (body: any): boolean {
  seenError(body.errorCode)
  const brokers = body.brokers as Array<Endpoint & { brokerId: number }>
  if (brokers.length === 0) return false
  for (const b of brokers) mapEndpoint(b.brokerId, b)
  return true
}

function editNodeEndpoints (body: any): boolean {
  seenError(body.errorCode) // ShareFetch, ShareAcknowledge, Fetch
  return editNodes(body.nodeEndpoints)
}

function editorFor (apiKey: number): ((body: any) => boolean) | null {
  switch (apiKey) {
    case METADATA: return editMetadata
    case FIND_COORDINATOR: return editFindCoordinator
    case DESCRIBE_CLUSTER: return editDescribeCluster
    case PRODUCE:
    case FETCH:
    case SHARE_FETCH:
    case SHARE_ACKNOWLEDGE: return editNodeEndpoints
    default: return null
  }
}

// The rewritten frame (size prefix included), or null when the response names no broker and the
// original bytes can be forwarded. Throws KproxyError (KPROXY_ERR_DECODE, _BROKER_PORT_UNMAPPED).
export function rewriteAddresses (payload: Buffer, apiKey: number, apiVersion: number, to: RewriteTarget): Buffer[] | null {
  const edit = editorFor(apiKey)
  if (edit === null) return null
  target = to
  version = apiVersion
  currentApiKey = apiKey
  try {
    return rewriteResponse(payload, apiKey, apiVersion, edit)
  } finally {
    target = null
  }
}
