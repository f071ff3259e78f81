// The built-in filters a config can name, each with the schema of its `config` block. A new
// built-in filter adds one entry here: its config is then validated like every other key, shows in
// docs/configuration.md and in the JSON Schema.
import type { Static, TObject } from 'typebox'
import { FAULT_INJECTION_CONFIG } from './fault-injection-schema.ts'
import { TOPIC_POLICY_CONFIG } from './topic-policy-schema.ts'

export interface BuiltinFilterSpec {
  readonly doc: string
  readonly config: TObject
}

export const BUILTIN_FILTERS = {
  faultInjection: {
    doc: 'For chosen API keys, topics, principals or client ids, a percentage of requests gets a Kafka error, a delay or a closed connection.',
    config: FAULT_INJECTION_CONFIG
  },
  topicPolicy: {
    doc: 'CreateTopics, CreatePartitions, AlterConfigs and IncrementalAlterConfigs are checked against rules; a violation gets POLICY_VIOLATION.',
    config: TOPIC_POLICY_CONFIG
  }
} as const satisfies Record<string, BuiltinFilterSpec>

export type BuiltinFilterName = keyof typeof BUILTIN_FILTERS
export type BuiltinFilterConfig<N extends BuiltinFilterName> = Static<typeof BUILTIN_FILTERS[N]['config']>

export function isBuiltinFilterName (name: string): name is BuiltinFilterName {
  return Object.hasOwn(BUILTIN_FILTERS, name)
}
