// The workers' flow snapshots added together: rows with the same key are summed. Workers see
// different connections, so the same flow (a client with two connections) can be on several.
import { TOPIC_ID_PREFIX } from './flow-registry.ts'
import type { FlowRow, FlowSnapshot, PartitionRow } from './flow-registry.ts'

export function emptyFlows (): FlowSnapshot {
  return { flows: [], partitions: [], overflow: { flows: 0, partitions: 0 } }
}

export function flowKey (r: FlowRow): string {
  return `${r[0] ?? ''}\u0000${r[1] ?? ''}\u0000${r[2] ?? ''}\u0000${r[3] ?? ''}\u0000${r[4]}\u0000${r[5]}`
}

export function mergeFlows (snapshots: ReadonlyArray<FlowSnapshot | undefined>): FlowSnapshot {
  const flows = new Map<string, FlowRow>()
  const partitions = new Map<string, PartitionRow>()
  const out = emptyFlows()
  const names = new Map<string, string>()
  for (const s of snapshots) for (const [id, name] of s?.topicNames ?? []) names.set(id, name)
  const named = (topic: string): string => topic.startsWith(TOPIC_ID_PREFIX) ? names.get(topic.slice(TOPIC_ID_PREFIX.length)) ?? topic : topic
  for (const s of snapshots) {
    if (s === undefined) continue
    for (const row of s.flows) {
      const r: FlowRow = [...row]
      r[5] = named(r[5])
      const key = flowKey(r)
      const have = flows.get(key)
      if (have === undefined) flows.set(key, r)
      else for (let i = 6; i < 10; i++) (have[i] as number) += r[i] as number
    }
    for (const row of s.partitions) {
      const p: PartitionRow = [...row]
      p[0] = named(p[0])
      const key = `${p[0]}\u0000${p[1]}`
      const have = partitions.get(key)
      if (have === undefined) partitions.set(key, p)
      else for (let i = 2; i < 5; i++) (have[i] as number) += p[i] as number
    }
    out.overflow.flows += s.overflow.flows
    out.overflow.partitions += s.overflow.partitions
  }
  out.flows = [...flows.values()]
  out.partitions = [...partitions.values()]
  out.topicNames = [...names]
  return out
}
