// Config of the built-in filter `topicPolicy`: CreateTopics, CreatePartitions, AlterConfigs and
// IncrementalAlterConfigs are checked against rules; a violation gets POLICY_VIOLATION with the
// rule's message.
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { group, key, requiredKey } from '../schema-kit.ts'
import { checkTopicPattern, int, topicPattern } from '../value-kinds.ts'

export const TOPIC_POLICY_CONFIG = group({
  rules: requiredKey(Type.Array(group({
    topics: key(Object.assign(topicPattern(), { default: '*' }), {
      allowed: 'a topic name, a glob (orders.*) or a /regular expression/',
      doc: 'Topics the rule applies to.',
      check: checkTopicPattern
    }),
    partitions: key(group({
      min: key(int(1, 1_000_000), { doc: 'Fewest partitions a topic may have.' }),
      max: key(int(1, 1_000_000), { doc: 'Most partitions a topic may have.' })
    }), {
      doc: 'Allowed partition count range.',
      check: v => {
        const p = v as { min?: number, max?: number } | null
        return p !== null && typeof p === 'object' && p.min !== undefined && p.max !== undefined && p.min > p.max ? `min ${p.min} is above max ${p.max}` : undefined
      }
    }),
    minReplicationFactor: key(int(1, 32767), { doc: 'Lowest replication factor a new topic may have.' }),
    requiredConfigs: key(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])), {
      allowed: 'a mapping of topic config name to its required value, or null for any value',
      doc: 'Topic configs a topic must set (null: any value).'
    }),
    forbiddenConfigs: key(Type.Array(Type.String()), { doc: 'Topic configs a topic must not set.' }),
    message: key(Type.String(), { doc: 'Sentence sent to the client with POLICY_VIOLATION (default: which rule and what is allowed).' })
  })), { doc: 'Rules; a request must satisfy every rule whose topics match.' })
})

export type TopicPolicyConfig = Static<typeof TOPIC_POLICY_CONFIG>
