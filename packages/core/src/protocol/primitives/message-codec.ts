// The shapes the generated code exports: one MessageCodec per message definition and one ApiSpec
// per API key (generated/api-table.ts). Kept out of the generated files so that they stay data.
import type { Reader } from './reader.ts'
import type { Writer } from './writer.ts'

export interface MessageCodec<T> {
  readonly name: string
  decode (r: Reader, version: number): T
  encode (w: Writer, message: T, version: number): void
  // A message with every field at its default.
  create (): T
  // create functions of the nested structs, by struct name (e.g. 'MetadataRequestTopic')
  readonly structs: { readonly [name: string]: () => object }
  readonly schema: MessageSchema
}

export interface ApiSpecInit {
  apiKey: number
  name: string
  // -1/-1 when the release supports no version of the API any more (e.g. ControlledShutdown).
  minVersion: number
  maxVersion: number
  // Lowest flexible version (KIP-482), -1 when never flexible.
  requestFlexibleMin: number
  responseFlexibleMin: number
  // Which listeners accept the request: "broker", "controller" (from the definition).
  listeners: readonly string[]
  latestVersionUnstable: boolean
  // The versions the last Kafka 3.x release had and this release dropped (KIP-896): the codecs
  // read and write them too, for the version bridge. Absent when there are none.
  bridgedMinVersion?: number
  bridgedMaxVersion?: number
  request: MessageCodec<any>
  response: MessageCodec<any>
}

const API_VERSIONS = 18
const CONTROLLED_SHUTDOWN = 7

export class ApiSpec implements ApiSpecInit {
  readonly apiKey: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  readonly requestFlexibleMin: number
  readonly responseFlexibleMin: number
  readonly listeners: readonly string[]
  readonly latestVersionUnstable: boolean
  // -1/-1 when nothing is bridged
  readonly bridgedMinVersion: number
  readonly bridgedMaxVersion: number
  readonly request: MessageCodec<any>
  readonly response: MessageCodec<any>

  constructor (init: ApiSpecInit) {
    this.apiKey = init.apiKey
    this.name = init.name
    this.minVersion = init.minVersion
    this.maxVersion = init.maxVersion
    this.requestFlexibleMin = init.requestFlexibleMin
    this.responseFlexibleMin = init.responseFlexibleMin
    this.listeners = init.listeners
    this.latestVersionUnstable = init.latestVersionUnstable
    this.bridgedMinVersion = init.bridgedMinVersion ?? -1
    this.bridgedMaxVersion = init.bridgedMaxVersion ?? -1
    this.request = init.request
    this.response = init.response
  }

  // A version the pinned Kafka release supports (what kproxy may advertise and forward as is).
  supports (version: number): boolean {
    return version >= this.minVersion && version <= this.maxVersion
  }

  // An old version that only the version bridge can serve: the codecs read and write it, the
  // pinned Kafka release no longer accepts it.
  isBridged (version: number): boolean {
    return version >= this.bridgedMinVersion && version <= this.bridgedMaxVersion
  }

  // Whether kproxy's codecs can read and write the version at all (supported or bridged).
  decodes (version: number): boolean {
    return this.supports(version) || this.isBridged(version)
  }

  isFlexibleRequest (version: number): boolean {
    return this.requestFlexibleMin >= 0 && version >= this.requestFlexibleMin
  }

  isFlexibleResponse (version: number): boolean {
    return this.responseFlexibleMin >= 0 && version >= this.responseFlexibleMin
  }

  // Request header v2 (tagged fields) iff the version is flexible, else v1; v0 (no client id)
  // was only ever used by ControlledShutdown v0.
  requestHeaderVersion (version: number): number {
    if (this.apiKey === CONTROLLED_SHUTDOWN && version === 0) return 0
    return this.isFlexibleRequest(version) ? 2 : 1
  }

  // Response header v1 iff the version is flexible — except ApiVersions, whose responses always
  // use v0 so that a client can read the answer to a version the broker does not know (KIP-511).
  responseHeaderVersion (version: number): number {
    if (this.apiKey === API_VERSIONS) return 0
    return this.isFlexibleResponse(version) ? 1 : 0
  }
}

// The definition a codec was generated from, kept as data for code that walks messages
// generically (e.g. finding every field with entityType "brokerId") and for the round-trip tests.
// Versions are written as in the definitions: "3", "1-4", "2+" (absent: none).
export interface FieldSchema {
  readonly name: string
  readonly prop: string
  readonly type: string
  readonly versions: string
  readonly nullableVersions?: string
  readonly tag?: number
  readonly flexibleVersions?: string
  readonly default?: string
  readonly entityType?: string
}

export interface MessageSchema {
  readonly name: string
  readonly type: 'request' | 'response' | 'header' | 'data'
  readonly apiKey: number
  readonly validVersions: string
  // The older versions the codec also reads and writes (see ApiSpec.bridgedMinVersion); absent: none.
  readonly bridgedVersions?: string
  readonly flexibleVersions: string
  readonly fields: readonly FieldSchema[]
  readonly structs: { readonly [name: string]: readonly FieldSchema[] }
}
