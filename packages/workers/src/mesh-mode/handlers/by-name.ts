// Admin requests routed by topic name to the cluster the name routes to (any of its brokers: a
// KRaft broker forwards to its controller), on this client's own connections (a broker holds
// CreateTopics and DeleteTopics up to their timeout): CreateTopics, DeleteTopics,
// CreatePartitions, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs. Names are renamed on
// the way up and back; a name without a route gets an error of its own. Config resources other
// than topics (brokers, the cluster) go to the home cluster of groups' default, with kproxy's
// node id replaced by that cluster's broker.
import { ApiKey } from '@kproxy/core/protocol/api-keys'
import type { MeshCall } from '../mesh-call.ts'
import type { MeshCluster } from '../mesh-cluster.ts'
import { ANY_BROKER } from '../mesh-cluster.ts'
import type { MeshHost } from '../mesh-host.ts'
import { ErrorCode } from '@kproxy/core/protocol/codec'
import { newRequest, newResponse, responseStructs, routeTopic } from './common.ts'

const TOPIC_RESOURCE = 2
const BROKER_RESOURCE = 4
const BROKER_LOGGER_RESOURCE = 8

interface Shape {
  apiKey: number
  items: string
  // the item's name; null: not routed by topic name (another resource type)
  nameOf (item: any): string | null
  setName (item: any, name: string): void
  results: string
  resultStruct: string
  resultName (result: any): string
  setResultName (result: any, name: string): void
  top (rq: any, sub: any): void
  // an error result for `item`
  error (item: any, s: any, errorCode: number, message: string): any
}

// Items that are topics, named by `name`: an error result is the result struct with name,
// error code and message, then `extra` (fields the struct's defaults do not cover).
function topicShape (apiKey: number, results: string, resultStruct: string, top: Shape['top'], extra: Record<string, unknown> = {}): Shape {
  return {
    apiKey,
    items: 'topics',
    nameOf: i => i.name,
    setName: (i, n) => { i.name = n },
    results,
    resultStruct,
    resultName: r => r.name,
    setResultName: (r, n) => { r.name = n },
    top,
    error: (i, s, errorCode, message) => ({ ...s(resultStruct), name: i.name, errorCode, errorMessage: message, ...extra })
  }
}

const CREATE_TOPICS = topicShape(ApiKey.CreateTopics, 'topics', 'CreatableTopicResult', (rq, sub) => { sub.timeoutMs = rq.timeoutMs; sub.validateOnly = rq.validateOnly }, { numPartitions: -1, replicationFactor: -1, configs: null })
const DELETE_TOPICS = topicShape(ApiKey.DeleteTopics, 'responses', 'DeletableTopicResult', (rq, sub) => { sub.timeoutMs = rq.timeoutMs })
const CREATE_PARTITIONS = topicShape(ApiKey.CreatePartitions, 'results', 'CreatePartitionsTopicResult', (rq, sub) => { sub.timeoutMs = rq.timeoutMs; sub.validateOnly = rq.validateOnly })

function configShape (apiKey: number, results: string, resultStruct: string, top: Shape['top']): Shape {
  return {
    apiKey,
    items: 'resources',
    nameOf: i => i.resourceType === TOPIC_RESOURCE ? i.resourceName : null,
    setName: (i, n) => { i.resourceName = n },
    results,
    resultStruct,
    resultName: r => r.resourceName,
    setResultName: (r, n) => { r.resourceName = n },
    top,
    error: (i, s, errorCode, message) => ({ ...s(resultStruct), resourceType: i.resourceType, resourceName: i.resourceName, errorCode, errorMessage: message, configs: [] })
  }
}

const DESCRIBE_CONFIGS = configShape(ApiKey.DescribeConfigs, 'results', 'DescribeConfigsResult', (rq, sub) => { sub.includeSynonyms = rq.includeSynonyms; sub.includeDocumentation = rq.includeDocumentation })
const ALTER_CONFIGS = configShape(ApiKey.AlterConfigs, 'responses', 'AlterConfigsResourceResponse', (rq, sub) => { sub.validateOnly = rq.validateOnly })
const INCREMENTAL_ALTER_CONFIGS = configShape(ApiKey.IncrementalAlterConfigs, 'responses', 'AlterConfigsResourceResponse', (rq, sub) => { sub.validateOnly = rq.validateOnly })

export const createTopics = (call: MeshCall, host: MeshHost): void => byName(CREATE_TOPICS, call, host)
export const deleteTopics = (call: MeshCall, host: MeshHost): void => {
  // v0-5 name topics in a list of strings; v6 in structs (by name or id)
  if (call.apiVersion < 6) {
    call.body.topics = call.body.topicNames.map((name: string) => ({ name, topicId: undefined }))
  }
  byName(DELETE_TOPICS, call, host)
}
export const createPartitions = (call: MeshCall, host: MeshHost): void => byName(CREATE_PARTITIONS, call, host)
export const describeConfigs = (call: MeshCall, host: MeshHost): void => byName(DESCRIBE_CONFIGS, call, host)
export const alterConfigs = (call: MeshCall, host: MeshHost): void => byName(ALTER_CONFIGS, call, host)
export const incrementalAlterConfigs = (call: MeshCall, host: MeshHost): void => byName(INCREMENTAL_ALTER_CONFIGS, call, host)

function byName (shape: Shape, call: MeshCall, host: MeshHost): void {
  const rq = call.body
  const items: any[] = rq[shape.items]
  const s = responseStructs(shape.apiKey)
  const results: any[] = new Array(items.length)
  const home = host.clusters.get(host.config.homeDefaultCluster)!
  // per cluster: the items' positions
  const parts = new Map<MeshCluster, number[]>()
  const upstreamNames: Array<string | null> = new Array(items.length).fill(null)
  items.forEach((item, i) => {
    const name = shape.nameOf(item)
    let cluster: MeshCluster
    if (name === null) {
      cluster = home
    } else {
      const r = routeTopic(host, name)
      if (r === null) {
        results[i] = shape.error(item, s, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} has no route in kproxy's mesh (no rule matches it and there is no default cluster)`)
        return
      }
      cluster = r.cluster
      upstreamNames[i] = r.name
    }
    const list = parts.get(cluster)
    if (list === undefined) parts.set(cluster, [i])
    else list.push(i)
  })

  call.whenAll = () => {
    const body = newResponse(shape.apiKey)
    body[shape.results] = results
    call.answer(body)
  }

  for (const [cluster, positions] of parts) {
    const sub = newRequest(shape.apiKey)
    shape.top(rq, sub)
    sub[shape.items] = positions.map(i => {
      const copy = { ...items[i] }
      const upstream = upstreamNames[i]
      if (upstream !== null) shape.setName(copy, upstream)
      else if ((copy.resourceType === BROKER_RESOURCE || copy.resourceType === BROKER_LOGGER_RESOURCE) && copy.resourceName === String(host.nodeId)) {
        // kproxy's node stands for the home cluster's first broker
        const first = cluster.brokers.keys().next()
        copy.resourceName = first.done === true ? '' : String(first.value)
      }
      return copy
    })
    if (shape === DELETE_TOPICS && call.apiVersion < 6) sub.topicNames = sub.topics.map((t: any) => t.name)
    call.send(cluster, ANY_BROKER, 'admin', sub, (answer, error) => {
      const got: any[] = answer?.[shape.results] ?? []
      positions.forEach((i, k) => {
        const upstream = upstreamNames[i]
        const r = upstream !== null ? got.find(x => shape.resultName(x) === upstream) : got[k]
        if (r === undefined) {
          results[i] = shape.error(items[i], s, ErrorCode.NETWORK_EXCEPTION, `cluster ${cluster.name} did not answer: ${error ?? 'no result for this name'}`)
          return
        }
        const name = shape.nameOf(items[i])
        if (name !== null) shape.setResultName(r, name)
        else if (r.resourceName !== undefined) r.resourceName = items[i].resourceName
        results[i] = r
      })
    })
  }
}
