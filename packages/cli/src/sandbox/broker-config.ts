// `kproxy sandbox up --broker-config KEY=VALUE` (repeatable): a user's server.properties entries,
// applied to every broker. The sandbox writes the node's identity, listeners, storage and quorum
// itself; a user value for one of those would break the cluster in ways that surface only as a
// start-up timeout, so they are refused here with the flag the user should use instead.
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { PropertyValue } from './node-config.ts'

// Kafka's keys are dot-separated words of letters, digits, '_' and '-'
// (listener.name.sasl_plaintext.plain.sasl.jaas.config, super.users, num.partitions).
const KEY_SYNTAX = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/

// Exact keys the sandbox owns, with why (shown to the user).
const OWNED_KEYS: ReadonlyMap<string, string> = new Map([
  ['node.id', 'the sandbox numbers its nodes 1..N'],
  ['broker.id', 'the sandbox numbers its nodes 1..N'],
  ['process.roles', 'every sandbox node is a combined broker and controller'],
  ['listeners', 'the sandbox chooses the ports (--tls and --sasl add listeners)'],
  ['advertised.listeners', 'the sandbox advertises the ports it chose'],
  ['listener.security.protocol.map', 'the sandbox maps its own listeners (--tls, --sasl)'],
  ['inter.broker.listener.name', 'brokers talk to each other over the sandbox\'s PLAINTEXT listener'],
  ['log.dirs', 'the data lives in the sandbox directory (--dir)'],
  ['log.dir', 'the data lives in the sandbox directory (--dir)'],
  ['metadata.log.dir', 'the data lives in the sandbox directory (--dir)']
])

// Prefixes the sandbox owns: the KRaft quorum (voters, listener names, bootstrap servers).
const OWNED_PREFIXES: ReadonlyMap<string, string> = new Map([
  ['controller.', 'the sandbox forms the KRaft quorum of its own nodes']
])

export function ownedKeyReason (key: string): string | null {
  const exact = OWNED_KEYS.get(key)
  if (exact !== undefined) return exact
  for (const [prefix, why] of OWNED_PREFIXES) if (key.startsWith(prefix)) return why
  return null
}

// Parses the flag values in order; a later KEY overrides an earlier one. Every problem is listed.
export function parseBrokerConfig (entries: readonly string[]): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {}
  const problems: string[] = []
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    if (eq < 0) {
      problems.push(`'${entry}' is not KEY=VALUE (e.g. num.partitions=4)`)
      continue
    }
    const key = entry.slice(0, eq).trim()
    const value = entry.slice(eq + 1)
    if (!KEY_SYNTAX.test(key)) {
      problems.push(`'${key}' is not a Kafka configuration key (words of letters, digits, '_' and '-' separated by dots, e.g. log.retention.ms)`)
      continue
    }
    const owned = ownedKeyReason(key)
    if (owned !== null) {
      problems.push(`${key} is set by the sandbox itself (${owned}); leave it out`)
      continue
    }
    // A newline would start a second property in server.properties behind the user's back.
    if (/[\r\n]/.test(value)) {
      problems.push(`the value of ${key} contains a line break; give it on one line`)
      continue
    }
    out[key] = value
  }
  if (problems.length > 0) {
    throw new KproxyError('KPROXY_ERR_SANDBOX_OPTIONS', `--broker-config: ${problems.join('; ')}.`)
  }
  return out
}
