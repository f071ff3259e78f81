// The valid frames the session fuzz starts from: for every API and every version kproxy can read
// (the pinned release's and the bridged old ones), a request and a response built from the codec's
// schema (SampleBuilder: every field set, and a variant with every nullable field null), plus the
// frames a real Kafka 4.3.1 broker exchanged in the interop test (kafka-4.3.1.jsonl), plus
// records the version bridge converts (fuzz-records.ts): old Produce with valid message sets, old
// Fetch and the Fetch answers, at the version it goes upstream at, with valid batches. Requests
// are kept as whole frames (size prefix included); responses as bodies, encoded at answer time
// with the correlation id of the request they answer.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { API_TABLE, ApiKey } from '@kproxy/core/protocol/api-keys'
import { decodeRequest, decodeResponse, encodeRequest } from '@kproxy/core/protocol/codec'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { SampleBuilder } from '../../../../core/test/protocol/generated/samples.ts'
import { fetchAnswersWithBatches, oldFetchBody, produceBodiesWithMessageSets } from './fuzz-records.ts'

export interface CorpusRequest {
  readonly apiKey: number
  readonly apiVersion: number
  // size prefix + header + body, correlation id at bytes 8..11
  readonly frame: Buffer
  // a Kafka 4.3.1 version (false: a bridged old one)
  readonly supported: boolean
  // false for Produce with acks=0
  readonly expectsResponse: boolean
}

export interface Corpus {
  readonly requests: readonly CorpusRequest[]
  // response bodies by apiKey * 1000 + apiVersion
  readonly responses: ReadonlyMap<number, readonly unknown[]>
}

const FIXTURE = join(import.meta.dirname, '../../../../core/test/fixtures/frames', `kafka-${KAFKA_VERSION}.jsonl`)

export function responseKey (apiKey: number, apiVersion: number): number {
  return apiKey * 1000 + apiVersion
}

export function buildCorpus (): Corpus {
  const requests: CorpusRequest[] = []
  const responses = new Map<number, unknown[]>()
  const addResponse = (apiKey: number, apiVersion: number, body: unknown): void => {
    const k = responseKey(apiKey, apiVersion)
    let list = responses.get(k)
    if (list === undefined) responses.set(k, list = [])
    list.push(body)
  }
  let correlationId = 1
  for (const api of API_TABLE) {
    if (api === undefined || api.minVersion < 0) continue
    const versions: Array<{ v: number, supported: boolean }> = []
    for (let v = api.minVersion; v <= api.maxVersion; v++) versions.push({ v, supported: true })
    for (let v = api.bridgedMinVersion; v >= 0 && v <= api.bridgedMaxVersion; v++) versions.push({ v, supported: false })
    for (const { v, supported } of versions) {
      for (const variant of ['full', 'nulls', 'acks0'] as const) {
        if (variant === 'acks0' && api.apiKey !== ApiKey.Produce) continue
        const body = new SampleBuilder(api.request.schema, v, variant === 'acks0' ? 'full' : variant).build(api.request)
        if (variant === 'acks0') body.acks = 0
        const frame = Buffer.concat(encodeRequest({ apiKey: api.apiKey, apiVersion: v, correlationId: correlationId++, clientId: variant === 'nulls' ? null : 'fuzz-client' }, body, 'decodable'))
        requests.push({ apiKey: api.apiKey, apiVersion: v, frame, supported, expectsResponse: api.apiKey !== ApiKey.Produce || body.acks !== 0 })
        if (variant !== 'acks0') addResponse(api.apiKey, v, new SampleBuilder(api.response.schema, v, variant).build(api.response))
      }
    }
  }
  // what the version bridge converts: the lowest Fetch version a Kafka 4 broker takes is where
  // old fetches go
  const oldRequest = (apiKey: number, v: number, body: any): void => {
    const frame = Buffer.concat(encodeRequest({ apiKey, apiVersion: v, correlationId: correlationId++, clientId: 'fuzz-client' }, body, 'decodable'))
    requests.push({ apiKey, apiVersion: v, frame, supported: false, expectsResponse: apiKey !== ApiKey.Produce || body.acks !== 0 })
  }
  const produce = API_TABLE[ApiKey.Produce]!
  const fetch = API_TABLE[ApiKey.Fetch]!
  for (let v = produce.bridgedMinVersion; v <= produce.bridgedMaxVersion; v++) for (const body of produceBodiesWithMessageSets(v)) oldRequest(ApiKey.Produce, v, body)
  for (let v = fetch.bridgedMinVersion; v <= fetch.bridgedMaxVersion; v++) oldRequest(ApiKey.Fetch, v, oldFetchBody())
  for (const body of fetchAnswersWithBatches()) addResponse(ApiKey.Fetch, fetch.minVersion, body)
  for (const line of readFileSync(FIXTURE, 'utf8').split('\n')) {
    if (line === '') continue
    const pair = JSON.parse(line) as { apiKey: number, version: number, request: string, response: string }
    const frame = Buffer.from(pair.request, 'base64')
    const acks = pair.apiKey === ApiKey.Produce ? (decodeRequest(frame.subarray(4)).body as { acks: number }).acks : 1
    requests.push({ apiKey: pair.apiKey, apiVersion: pair.version, frame, supported: true, expectsResponse: acks !== 0 })
    const response = Buffer.from(pair.response, 'base64')
    addResponse(pair.apiKey, pair.version, decodeResponse(response.subarray(4), pair.apiKey, pair.version, 'decodable').body)
  }
  return { requests, responses }
}
