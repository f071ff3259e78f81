// Produce v0-2 through the bridge: each partition's message set (magic v0 or v1) becomes the one
// v2 record batch a Kafka 4 broker takes (record-format-convert.ts); the answer needs no change
// (the same fields, the newer ones dropped when kproxy encodes it at the client's version).
//
// A partition whose message set is broken (sizes that lie, a wrong CRC, nested compression, a
// decompression bomb over the budget) is taken out of the request and answered with the error a
// broker gave for it — CORRUPT_MESSAGE (2), or MESSAGE_TOO_LARGE (10) over the budget — while the
// request's other partitions go on; when none is left, kproxy answers the request itself. Old
// clients know both codes.
import { isKproxyError } from '../kproxy-error.ts'
import { ErrorCode } from '../protocol/generated/error-codes.ts'
import { getApi } from '../protocol/codec.ts'
import { ApiKey } from '../protocol/generated/api-table.ts'
import { messageSetToRecordBatch } from '../protocol/record-format-convert.ts'

export interface PartitionFailure {
  topic: string
  partition: number
  errorCode: number
  // the KPROXY_ERR_* code and sentence, for the log
  code: string
  message: string
}

export interface ProduceBridgeState {
  failed: PartitionFailure[]
  // partitions left to send upstream
  remaining: number
}

export interface ProduceBridgeLimits {
  // decompressed bytes allowed per message set (one partition's records)
  maxUncompressedSize?: number
}

export function errorCodeFor (err: unknown): number {
  if (!isKproxyError(err)) return ErrorCode.UNKNOWN_SERVER_ERROR
  return err.code === 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE' ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.CORRUPT_MESSAGE
}

// Edits a Produce v0-2 request body in place for Produce v3+.
export function produceRequestToV3 (body: any, limits: ProduceBridgeLimits = {}): ProduceBridgeState {
  const failed: PartitionFailure[] = []
  let remaining = 0
  const options = limits.maxUncompressedSize === undefined ? {} : { maxUncompressedSize: limits.maxUncompressedSize }
  for (const topic of body.topicData) {
    topic.partitionData = topic.partitionData.filter((p: any) => {
      if (p.records === null || p.records.length === 0) {
        remaining++
        return true
      }
      try {
        p.records = messageSetToRecordBatch(p.records, options)
        remaining++
        return true
      } catch (err) {
        failed.push({
          topic: topic.name,
          partition: p.index,
          errorCode: errorCodeFor(err),
          code: isKproxyError(err) ? err.code : 'KPROXY_ERR_INTERNAL',
          message: (err as Error).message
        })
        return false
      }
    })
  }
  body.topicData = body.topicData.filter((t: any) => t.partitionData.length > 0)
  return { failed, remaining }
}

// The failed partitions put back into the broker's answer (or into an empty one).
export function addProduceFailures (response: any, failed: readonly PartitionFailure[]): void {
  const structs = getApi(ApiKey.Produce).response.structs
  for (const f of failed) {
    let topic = response.responses.find((t: any) => t.name === f.topic)
    if (topic === undefined) {
      topic = { ...structs.TopicProduceResponse!(), name: f.topic, partitionResponses: [] }
      response.responses.push(topic)
    }
    topic.partitionResponses.push({ ...structs.PartitionProduceResponse!(), index: f.partition, errorCode: f.errorCode, baseOffset: -1n })
  }
}

// kproxy's own answer when no partition of the request could be converted.
export function produceFailureResponse (failed: readonly PartitionFailure[]): any {
  const body = getApi(ApiKey.Produce).response.create()
  addProduceFailures(body, failed)
  return body
}
