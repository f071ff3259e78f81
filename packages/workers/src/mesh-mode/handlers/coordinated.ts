// Sending a request to the coordinator of a group or transactional id in one cluster: looked up
// with FindCoordinator (cached per cluster, forgotten after NOT_COORDINATOR and its kin), then
// sent on this client's own connection to that broker (JoinGroup and SyncGroup are held by the
// broker until the group is ready). `done` gets the answer, or null and a retriable error code.
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { coordinatorMoved, newResponse } from './common.ts'

export const GROUP_KEY = 0
export const TRANSACTION_KEY = 1

export function toCoordinator (call: MeshCall, cluster: MeshCluster, keyType: number, key: string, body: unknown, done: (answer: any | null, errorCode: number) => void, apiKey = call.apiKey, apiVersion = call.apiVersion): void {
  const release = call.hold()
  cluster.coordinator(keyType, key, (node, errorCode) => {
    if (node < 0) {
      done(null, errorCode)
      release()
      return
    }
    call.send(cluster, node, 'coordinator', body, (answer) => {
      if (answer === null) {
        cluster.forgetCoordinator(keyType, key)
        done(null, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        return
      }
      const top = typeof answer.errorCode === 'number' ? answer.errorCode : 0
      if (coordinatorMoved(top)) cluster.forgetCoordinator(keyType, key)
      done(answer, 0)
    }, apiKey, apiVersion)
    release()
  })
}

// The answer of an API with a top-level error code, carrying only that error.
export function errorAnswer (apiKey: number, errorCode: number): any {
  const body = newResponse(apiKey)
  body.errorCode = errorCode
  return body
}

// Forwards the request as it is to the coordinator of `key` in `cluster` and answers the client
// with the coordinator's answer (or a retriable error).
export function relayToCoordinator (call: MeshCall, cluster: MeshCluster, keyType: number, key: string): void {
  toCoordinator(call, cluster, keyType, key, call.body, (answer, errorCode) => {
    call.answer(answer ?? errorAnswer(call.apiKey, errorCode))
  })
}
