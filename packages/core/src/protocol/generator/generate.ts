// Turns the definitions in the pinned kafka-clients jar into the contents of generated/: one
// module per message, the API table, the index of header/data messages and the error codes.
// Pure apart from reading the jar (and running Java for the error codes, in error-codes.ts).
import { KproxyError } from '../../kproxy-error.ts'
import { emitApiTable, emitMessageIndex } from './emit-api-table.ts'
import { emitMessage } from './emit-message.ts'
import { moduleName } from './emit-names.ts'
import { emitErrorCodes } from './error-codes.ts'
import type { ErrorRecord } from './error-codes.ts'
import type { Jar } from './jar.ts'
import { parseJsonWithComments } from './json-comments.ts'
import { parseMessage } from './spec.ts'
import type { MessageSpec } from './spec.ts'

export const MESSAGE_PREFIX = 'common/message/'

export function readSpecs (jar: Jar): MessageSpec[] {
  const names = jar.list(MESSAGE_PREFIX).filter(n => n.endsWith('.json')).sort()
  if (names.length === 0) throw new KproxyError('KPROXY_ERR_GENERATOR', `${jar.path} holds no ${MESSAGE_PREFIX}*.json; is it a kafka-clients jar?`)
  return names.map(n => parseMessage(parseJsonWithComments(jar.readText(n), n), n.slice(MESSAGE_PREFIX.length)))
}

// File name (relative to generated/) -> content. Deterministic: the same jar gives the same bytes.
export function generateFiles (specs: MessageSpec[], errors: ErrorRecord[], kafkaVersion: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const spec of specs) {
    const name = moduleName(spec)
    if (files.has(name)) throw new KproxyError('KPROXY_ERR_GENERATOR', `two definitions map to ${name}`)
    files.set(name, emitMessage(spec, kafkaVersion))
  }
  files.set('api-table.ts', emitApiTable(specs, kafkaVersion))
  files.set('messages.ts', emitMessageIndex(specs, kafkaVersion))
  files.set('error-codes.ts', emitErrorCodes(errors, kafkaVersion))
  return new Map([...files].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}
