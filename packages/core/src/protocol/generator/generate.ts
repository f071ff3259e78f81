// Turns the definitions in the pinned kafka-clients jar into the contents of generated/: one
// module per message, the API table, the index of header/data messages and the error codes —
// with the versions the last 3.x release had and the pinned one dropped merged into the codecs
// (bridged-versions.ts, merge-old-versions.ts).
// Pure apart from reading the jars (and running Java for the error codes, in error-codes.ts).
import { KproxyError } from '../../kproxy-error.ts'
import { emitApiTable, emitMessageIndex } from './emit-api-table.ts'
import { emitBridgedVersions } from './emit-bridged-versions.ts'
import { emitMessage } from './emit-message.ts'
import { moduleName } from './emit-names.ts'
import { emitErrorCodes } from './error-codes.ts'
import type { ErrorRecord } from './error-codes.ts'
import { deriveBridgedApis } from './bridged-versions.ts'
import type { BridgedApi } from './bridged-versions.ts'
import type { Jar } from './jar.ts'
import { parseJsonWithComments } from './json-comments.ts'
import { mergeOldVersions } from './merge-old-versions.ts'
import { parseMessage } from './spec.ts'
import type { MessageSpec } from './spec.ts'

export const MESSAGE_PREFIX = 'common/message/'

export function readSpecs (jar: Jar): MessageSpec[] {
  const names = jar.list(MESSAGE_PREFIX).filter(n => n.endsWith('.json')).sort()
  if (names.length === 0) throw new KproxyError('KPROXY_ERR_GENERATOR', `${jar.path} holds no ${MESSAGE_PREFIX}*.json; is it a kafka-clients jar?`)
  return names.map(n => parseMessage(parseJsonWithComments(jar.readText(n), n), n.slice(MESSAGE_PREFIX.length)))
}

// The definitions of the last 3.x release, whose old versions the codecs also cover.
export interface OldDefinitions {
  specs: MessageSpec[]
  kafkaVersion: string
}

// The current definitions with the bridged versions merged into the requests and responses of
// the bridged APIs.
export function withBridgedVersions (specs: MessageSpec[], old: OldDefinitions): { specs: MessageSpec[], bridged: BridgedApi[] } {
  const bridged = deriveBridgedApis(specs, old.specs)
  const byKey = new Map(bridged.map(b => [b.apiKey, b]))
  const find = (type: string, apiKey: number): MessageSpec | undefined => old.specs.find(s => s.type === type && s.apiKey === apiKey)
  const merged = specs.map(s => {
    const b = s.apiKey === null ? undefined : byKey.get(s.apiKey)
    if (b === undefined || (s.type !== 'request' && s.type !== 'response')) return s
    const before = find(s.type, b.apiKey)
    if (before === undefined) throw new KproxyError('KPROXY_ERR_GENERATOR', `kafka-clients-${old.kafkaVersion}.jar has no ${s.type} definition for apiKey ${b.apiKey}`)
    return mergeOldVersions(s, before, b.bridged, `kafka-clients-${old.kafkaVersion}.jar ${MESSAGE_PREFIX}${before.file}`)
  })
  return { specs: merged, bridged }
}

// File name (relative to generated/) -> content. Deterministic: the same jars give the same bytes.
export function generateFiles (current: MessageSpec[], errors: ErrorRecord[], kafkaVersion: string, old: OldDefinitions): Map<string, string> {
  const { specs, bridged } = withBridgedVersions(current, old)
  const files = new Map<string, string>()
  for (const spec of specs) {
    const name = moduleName(spec)
    if (files.has(name)) throw new KproxyError('KPROXY_ERR_GENERATOR', `two definitions map to ${name}`)
    files.set(name, emitMessage(spec, kafkaVersion))
  }
  files.set('api-table.ts', emitApiTable(specs, kafkaVersion))
  files.set('messages.ts', emitMessageIndex(specs, kafkaVersion))
  files.set('error-codes.ts', emitErrorCodes(errors, kafkaVersion))
  files.set('bridged-versions.ts', emitBridgedVersions(bridged, kafkaVersion, old.kafkaVersion))
  return new Map([...files].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}
