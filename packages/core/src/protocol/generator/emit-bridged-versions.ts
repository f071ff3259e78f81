// Emits generated/bridged-versions.ts: per API key, the versions the pinned release supports and
// the older ones (from the last 3.x release) that kproxy's codecs also read and write.
import { banner } from './banner.ts'
import type { BridgedApi } from './bridged-versions.ts'
import { tsString } from './emit-names.ts'
import { isEmpty } from './spec.ts'

export function emitBridgedVersions (apis: BridgedApi[], kafkaVersion: string, oldKafkaVersion: string): string {
  const out = [banner(kafkaVersion, 'common/message/*Request.json', undefined,
    `and kafka-clients-${oldKafkaVersion}.jar common/message/*Request.json (the versions ${oldKafkaVersion} had)`)]
  out.push(`// The Kafka 3.x release whose definitions the bridged versions come from.
export const BRIDGED_FROM_KAFKA_VERSION = ${tsString(oldKafkaVersion)}

export interface BridgedApi {
  readonly apiKey: number
  readonly name: string
  // what Apache Kafka ${kafkaVersion} supports (-1/-1: nothing)
  readonly minVersion: number
  readonly maxVersion: number
  // the older versions Apache Kafka ${oldKafkaVersion} had and ${kafkaVersion} dropped
  readonly bridgedMinVersion: number
  readonly bridgedMaxVersion: number
}

// Ordered by API key.
export const BRIDGED_APIS: readonly BridgedApi[] = [`)
  apis.forEach((a, i) => {
    const cur = isEmpty(a.current) ? [-1, -1] : [a.current.lo, a.current.hi]
    out.push(`  { apiKey: ${a.apiKey}, name: ${tsString(a.name)}, minVersion: ${cur[0]}, maxVersion: ${cur[1]}, bridgedMinVersion: ${a.bridged.lo}, bridgedMaxVersion: ${a.bridged.hi} }${i < apis.length - 1 ? ',' : ''}`)
  })
  out.push(']')
  return out.join('\n') + '\n'
}
