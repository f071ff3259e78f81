// Requests kproxy answers itself in mesh mode: ApiVersions (what every cluster and kproxy's
// handlers accept), DescribeCluster (kproxy is the one broker and the controller) and
// FindCoordinator (kproxy coordinates every group and transaction; the real coordinator is looked
// up per cluster when a group request comes).
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshHost } from '../mesh-host.ts'
import { newResponse, responseStructs } from './common.ts'

export function apiVersionsBody (host: MeshHost, errorCode: number): any {
  const body = newResponse(ApiKey.ApiVersions)
  body.errorCode = errorCode
  const s = responseStructs(ApiKey.ApiVersions)
  body.apiKeys = host.versions().map(v => ({ ...s('ApiVersion'), apiKey: v.apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion }))
  // no finalized features: clients use the protocol every cluster speaks (transactions v1, in
  // which AddPartitionsToTxn tells kproxy which partitions a transaction touches)
  body.supportedFeatures = []
  body.finalizedFeatures = []
  body.finalizedFeaturesEpoch = -1n
  return body
}

export function apiVersions (call: MeshCall, host: MeshHost): void {
  call.answer(apiVersionsBody(host, 0))
}

export function describeCluster (call: MeshCall, host: MeshHost): void {
  const body = newResponse(ApiKey.DescribeCluster)
  const s = responseStructs(ApiKey.DescribeCluster)
  body.endpointType = call.body.endpointType ?? 1
  body.clusterId = host.clusterId
  body.controllerId = host.nodeId
  body.brokers = [{ ...s('DescribeClusterBroker'), brokerId: host.nodeId, host: host.advertisedHost, port: host.advertisedPort, rack: null, isFenced: false }]
  call.answer(body)
}

export function findCoordinator (call: MeshCall, host: MeshHost): void {
  const body = newResponse(ApiKey.FindCoordinator)
  const rq = call.body
  if (call.apiVersion >= 4) {
    const s = responseStructs(ApiKey.FindCoordinator)
    body.coordinators = rq.coordinatorKeys.map((key: string) => ({ ...s('Coordinator'), key, nodeId: host.nodeId, host: host.advertisedHost, port: host.advertisedPort, errorCode: 0, errorMessage: null }))
  } else {
    body.errorCode = 0
    body.errorMessage = null
    body.nodeId = host.nodeId
    body.host = host.advertisedHost
    body.port = host.advertisedPort
  }
  call.answer(body)
}
