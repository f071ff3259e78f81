// Config of the built-in filter `faultInjection`: for matching requests, a percentage gets a
// chosen Kafka error, an added delay or a closed connection (to test client resilience).
import { Type } from 'typebox'
import type { Static, TSchema } from 'typebox'
import { group, key, requiredKey } from '../schema-kit.ts'
import { API_KEY_LIST_ALLOWED, apiKeyList, checkApiKeyList, checkKafkaError, checkTopicPattern, int, kafkaErrorRef, num, topicPattern } from '../value-kinds.ts'

const ERROR_ACTION = group({
  error: requiredKey(kafkaErrorRef(), {
    allowed: 'a Kafka error name such as NOT_LEADER_OR_FOLLOWER or REQUEST_TIMED_OUT, or its code',
    doc: 'Answer the request with this Kafka error instead of forwarding it.',
    check: checkKafkaError
  })
})
const DELAY_ACTION = group({
  delayMs: requiredKey(int(0, 600_000), { doc: 'Hold the request this long, then forward it.' })
})
const CLOSE_ACTION = group({
  close: requiredKey(Type.Literal(true), { doc: 'Close the client connection.' })
})

const ACTIONS: Record<string, TSchema> = { error: ERROR_ACTION, delayMs: DELAY_ACTION, close: CLOSE_ACTION }
const ACTION_ALLOWED = 'exactly one of error: ERROR (a Kafka error name or code), delayMs: 0..600000, or close: true'

export const FAULT_INJECTION_CONFIG = group({
  rules: requiredKey(Type.Array(group({
    match: key(group({
      apiKeys: key(apiKeyList(), { allowed: API_KEY_LIST_ALLOWED, doc: 'Requests of these APIs (all when absent).', check: checkApiKeyList }),
      topics: key(Type.Array(topicPattern()), {
        allowed: 'a list of topic names, globs (orders.*) or /regular expressions/',
        doc: 'Requests that name one of these topics (all when absent).',
        check: v => Array.isArray(v) ? v.map(checkTopicPattern).find(r => r !== undefined) : undefined
      }),
      principals: key(Type.Array(Type.String()), { doc: 'Connections of these principals (all when absent).' }),
      clientIds: key(Type.Array(Type.String()), { doc: 'Requests with these client ids (all when absent).' })
    }), { doc: 'Which requests the rule applies to; every listed condition must hold (all requests when absent).' }),
    percent: requiredKey(num(0, 100), { doc: 'Share of the matching requests that get the action, from 0 to 100.' }),
    action: requiredKey(Type.Union([ERROR_ACTION, DELAY_ACTION, CLOSE_ACTION]), {
      allowed: ACTION_ALLOWED,
      doc: 'What happens to a chosen request.',
      select: v => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return `an action is a mapping: ${ACTION_ALLOWED}`
        const kinds = Object.keys(v).filter(k => k in ACTIONS)
        if (kinds.length !== 1) return `${kinds.length === 0 ? 'no action given' : `several actions given (${kinds.join(', ')})`}; allowed: ${ACTION_ALLOWED}`
        return ACTIONS[kinds[0]!]!
      }
    })
  })), { doc: 'Rules, each checked for every request; the first matching rule that fires wins.' }),
  seed: key(Type.Integer(), { doc: 'Seed of the random choice, for repeatable runs (random when absent).' })
})

export type FaultInjectionConfig = Static<typeof FAULT_INJECTION_CONFIG>
