// Splitting a request whose entries are partly denied, and merging the broker's answer with the
// denials in the client's order. Slow path: only requests with a denial come here.
//
// A plan remembers the request's original list (the decoded elements, untouched) and, per
// element (and per partition), the error it was denied with (0: it went to the broker). The
// request sent upstream holds copies of the topics with only their allowed partitions; a topic
// with none left is left out. The answer is rebuilt from the original list: a denied slot gets a
// fresh answer struct with the error, an allowed one the broker's answer for it (matched by topic
// and partition; a topic named twice is matched in turn). Whatever the broker answered beyond what
// was asked is kept at the end.
import { getApi } from '@kproxy/core/protocol/codec'
import type { AclShape, EntryShape, PartitionShape } from './acl-shapes.ts'

export interface AclPlan {
  readonly shape: AclShape
  readonly original: readonly any[]
  // per original element: 0 (allowed), an error code (denied whole), or for partition shapes
  // null when only some of its partitions are denied (see partitionErrors)
  readonly errors: Array<number | null>
  // per original topic: the error of each partition (0 allowed), or null when none is denied
  readonly partitionErrors: Array<Int16Array | null>
}

export function newPlan (shape: AclShape, original: readonly any[]): AclPlan {
  return { shape, original, errors: new Array<number | null>(original.length).fill(0), partitionErrors: new Array<Int16Array | null>(original.length).fill(null) }
}

// Marks one partition (by its position in the topic's list) denied; the first error stays.
export function denyPartition (plan: AclPlan, topic: number, partition: number, count: number, error: number): void {
  if (plan.errors[topic] !== 0 && plan.errors[topic] !== null) return
  let p = plan.partitionErrors[topic]
  if (p == null) p = plan.partitionErrors[topic] = new Int16Array(count)
  if (p[partition] === 0) p[partition] = error
  plan.errors[topic] = null
}

export function denyEntry (plan: AclPlan, entry: number, error: number): void {
  if (plan.errors[entry] === 0 || plan.errors[entry] === null) plan.errors[entry] = error
}

export function planDenies (plan: AclPlan | null): boolean {
  return plan !== null && plan.errors.some(e => e !== 0)
}

// True when nothing of the request is left for the broker.
export function allDenied (plan: AclPlan): boolean {
  const shape = plan.shape
  for (let i = 0; i < plan.original.length; i++) {
    const e = plan.errors[i]
    if (e === 0) return false
    if (e === null) {
      const p = plan.partitionErrors[i]!
      for (let j = 0; j < p.length; j++) if (p[j] === 0) return false
      // a topic asked with no partitions at all: nothing of it goes upstream
      if (shape.kind === 'partitions' && p.length === 0) continue
    }
  }
  return true
}

// The request's list as it goes upstream (denied entries and partitions taken out).
export function allowedList (plan: AclPlan): any[] {
  const out: any[] = []
  const shape = plan.shape
  for (let i = 0; i < plan.original.length; i++) {
    const e = plan.errors[i]
    const t = plan.original[i]
    if (e === 0) { out.push(t); continue }
    if (e !== null || shape.kind !== 'partitions') continue
    const p = plan.partitionErrors[i]!
    const kept = (t[shape.partitions] as any[]).filter((_x, j) => p[j] === 0)
    if (kept.length > 0) out.push({ ...t, [shape.partitions]: kept })
  }
  return out
}

function take<V> (m: Map<string | number, V[]>, key: string | number): V | undefined {
  const q = m.get(key)
  if (q === undefined || q.length === 0) return undefined
  return q.shift()
}

function group<V> (list: readonly V[], keyOf: (v: V) => string | number): Map<string | number, V[]> {
  const m = new Map<string | number, V[]>()
  for (const v of list) {
    const k = keyOf(v)
    const q = m.get(k)
    if (q === undefined) m.set(k, [v])
    else q.push(v)
  }
  return m
}

function rest<V> (m: Map<string | number, V[]>, out: V[]): void {
  for (const q of m.values()) for (const v of q) out.push(v)
}

const topicKey = (name: string | null, id: string | null) => (e: any): string => {
  const n = name === null ? undefined : e[name]
  return n !== undefined && n !== null && n !== '' ? `n:${String(n)}` : `i:${String(id === null ? '' : e[id])}`
}

// Rebuilds the response list (`body` is the broker's decoded answer, or a fresh one when the
// whole request was denied) in the client's order.
export function mergeAnswer (plan: AclPlan, apiKey: number, body: any): void {
  const shape = plan.shape
  if (shape.kind === 'partitions') mergePartitions(plan, shape, apiKey, body)
  else mergeEntries(plan, shape, apiKey, body)
}

function mergePartitions (plan: AclPlan, shape: PartitionShape, apiKey: number, body: any): void {
  const structs = getApi(apiKey).response.structs
  const answered: any[] = body[shape.rTopics] ?? []
  const byTopic = group(answered, topicKey(shape.rName, shape.rId))
  const reqKey = topicKey(shape.name, shape.id)
  const out: any[] = []
  for (let i = 0; i < plan.original.length; i++) {
    const t = plan.original[i]
    const key = reqKey(t)
    const error = plan.errors[i]
    // only a topic with something left went upstream, so only it has an answer to take
    const perPartition = plan.partitionErrors[i]
    const went = error === 0 || (error === null && perPartition!.some(e => e === 0))
    const answer = went ? take(byTopic, key) : undefined
    const topic = answer ?? fresh(structs, shape, t)
    const asked: any[] = t[shape.partitions] ?? []
    const byIndex = group<any>(answer?.[shape.rPartitions] ?? [], p => p[shape.rIndex] as number)
    const partitions: any[] = []
    for (let j = 0; j < asked.length; j++) {
      const index: number = shape.index === null ? asked[j] : asked[j][shape.index]
      const denied = error !== 0 && error !== null ? error : perPartition?.[j] ?? 0
      if (denied !== 0) {
        partitions.push({ ...structs[shape.rPartitionStruct]!(), ...shape.rPartitionFill, [shape.rIndex]: index, errorCode: denied })
      } else {
        const p = take(byIndex, index)
        if (p !== undefined) partitions.push(p)
      }
    }
    rest(byIndex, partitions)
    topic[shape.rPartitions] = partitions
    out.push(topic)
  }
  rest(byTopic, out)
  body[shape.rTopics] = out
}

function fresh (structs: Record<string, (() => any) | undefined>, shape: PartitionShape, t: any): any {
  const topic = structs[shape.rTopicStruct]!()
  if (shape.rName !== null && shape.name !== null) topic[shape.rName] = t[shape.name]
  if (shape.rId !== null && shape.id !== null && t[shape.id] !== undefined) topic[shape.rId] = t[shape.id]
  return topic
}

function mergeEntries (plan: AclPlan, shape: EntryShape, apiKey: number, body: any): void {
  const structs = getApi(apiKey).response.structs
  const answered: any[] = body[shape.rList] ?? []
  const byKey = group(answered, shape.resKey)
  const out: any[] = []
  for (let i = 0; i < plan.original.length; i++) {
    const e = plan.original[i]
    const error = plan.errors[i]
    if (error === 0 || error === null) {
      const a = take(byKey, shape.reqKey(e))
      if (a !== undefined) out.push(a)
      continue
    }
    const r: any = structs[shape.rStruct]!()
    shape.fill(e, r)
    r.errorCode = error
    out.push(r)
  }
  rest(byKey, out)
  body[shape.rList] = out
}
