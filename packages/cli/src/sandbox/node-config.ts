import { join } from 'node:path'

// Where one KRaft node (combined broker + controller) keeps its files, and which ports it uses.
export interface NodeLayout {
  id: number
  dir: string
  dataDir: string
  configFile: string
  log4jFile: string
  // Kafka's own log (log4j2 file appender).
  logFile: string
  // The JVM's stdout/stderr: crashes before log4j starts land here.
  outFile: string
  pidFile: string
  port: number
  controllerPort: number
  tlsPort?: number
  saslPort?: number
  // SASL over TLS (SASL_SSL), when the sandbox has both TLS and SASL
  saslSslPort?: number
}

export interface TlsFiles {
  dir: string
  ca: string
  // PKCS#8 key followed by the certificate chain, for ssl.keystore.type=PEM.
  brokerKeystore: string
  clientCert: string
  clientKey: string
  clientKeystore: string
  // A Java client config (security.protocol=SSL with the PEM files) for Kafka's tools.
  clientProperties: string
}

export function nodeLayout (base: string, id: number, ports: { port: number, controllerPort: number, tlsPort?: number, saslPort?: number, saslSslPort?: number }): NodeLayout {
  const dir = join(base, `node-${id}`)
  return {
    id,
    dir,
    dataDir: join(dir, 'data'),
    configFile: join(dir, 'server.properties'),
    log4jFile: join(dir, 'log4j2.properties'),
    logFile: join(dir, 'server.log'),
    outFile: join(dir, 'jvm.out'),
    pidFile: join(dir, 'jvm.pid'),
    ...ports
  }
}

export function tlsLayout (base: string): TlsFiles {
  const dir = join(base, 'tls')
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    brokerKeystore: join(dir, 'broker-keystore.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
    clientKeystore: join(dir, 'client-keystore.pem'),
    clientProperties: join(dir, 'client.properties')
  }
}

export type PropertyValue = string | number | boolean

export interface SaslUser {
  name: string
  password: string
}

// The SASL_PLAINTEXT listener's users: fixed, known names so that tests and demos need no setup.
// Every user works with every mechanism (PLAIN from the listener's JAAS config, SCRAM from
// credentials written at format time, see scramFormatArgs).
export const SASL_USERS: readonly SaslUser[] = [
  { name: 'alice', password: 'alice-secret' },
  { name: 'bob', password: 'bob-secret' }
]
export const SASL_MECHANISMS: readonly string[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

// A JAAS option value is a quoted string; quotes and backslashes would end it early.
function jaasQuote (value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

// StorageTool `--add-scram` arguments: KRaft keeps SCRAM credentials in the metadata log, and the
// bootstrap records written at format time are the only way to have them before the first start.
export function scramFormatArgs (users: readonly SaslUser[]): string[] {
  const args: string[] = []
  for (const mechanism of SASL_MECHANISMS.filter(m => m.startsWith('SCRAM-'))) {
    for (const u of users) args.push('--add-scram', `${mechanism}=[name=${u.name},password=${u.password}]`)
  }
  return args
}

// `listener`: the listener's name in lower case (sasl_plaintext, sasl_ssl); both have the same
// users and mechanisms (SCRAM credentials are the cluster's, PLAIN's are per listener).
function saslProperties (users: readonly SaslUser[], listener: string): Record<string, PropertyValue> {
  const plainUsers = users.map(u => `user_${u.name}=${jaasQuote(u.password)}`).join(' ')
  return {
    [`listener.name.${listener}.sasl.enabled.mechanisms`]: SASL_MECHANISMS.join(','),
    [`listener.name.${listener}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    [`listener.name.${listener}.scram-sha-256.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`listener.name.${listener}.scram-sha-512.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  }
}

// Java .properties: backslash is the escape character; leading spaces and newlines must not
// reach the value unescaped.
function escapeValue (value: PropertyValue): string {
  return String(value).replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replace(/^ /, '\\ ')
}

export function formatProperties (props: Record<string, PropertyValue>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${escapeValue(v)}\n`).join('')
}

// `sasl`: users of a SASL_PLAINTEXT listener on node.saslPort (null: no such listener). With both
// `tls` and `sasl`, also a SASL_SSL listener on node.saslSslPort: the same users and mechanisms
// over TLS with the broker's certificate, no client certificate asked (as a SASL_SSL listener
// usually is).
export function serverProperties (node: NodeLayout, all: readonly NodeLayout[], tls: TlsFiles | null, extra: Record<string, PropertyValue> = {}, sasl: readonly SaslUser[] | null = null): Record<string, PropertyValue> {
  const n = all.length
  const rf = n >= 3 ? 3 : 1
  const listeners = [`PLAINTEXT://127.0.0.1:${node.port}`]
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT']
  if (tls !== null) {
    listeners.push(`SSL://127.0.0.1:${node.tlsPort}`)
    protocols.push('SSL:SSL')
  }
  if (sasl !== null) {
    listeners.push(`SASL_PLAINTEXT://127.0.0.1:${node.saslPort}`)
    protocols.push('SASL_PLAINTEXT:SASL_PLAINTEXT')
  }
  if (sasl !== null && tls !== null) {
    listeners.push(`SASL_SSL://127.0.0.1:${node.saslSslPort}`)
    protocols.push('SASL_SSL:SASL_SSL')
  }
  const props: Record<string, PropertyValue> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    // Static quorum: every node knows all voters up front, so no --standalone/--initial-controllers format.
    'controller.quorum.voters': all.map(x => `${x.id}@127.0.0.1:${x.controllerPort}`).join(','),
    listeners: [...listeners, `CONTROLLER://127.0.0.1:${node.controllerPort}`].join(','),
    'advertised.listeners': listeners.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': protocols.join(','),
    'log.dirs': node.dataDir,
    'auto.create.topics.enable': true,
    'default.replication.factor': rf,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': rf === 1 ? 1 : 2,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': rf === 1 ? 1 : 2,
    'group.initial.rebalance.delay.ms': 0,
    // A crashed broker cannot re-register until its old session expires (DUPLICATE_BROKER_REGISTRATION),
    // and a crash is only noticed at expiry: 9 s by default. Loopback heartbeats are cheap.
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 4000
  }
  if (tls !== null) {
    // PEM stores take no passwords (Kafka refuses a password with an unencrypted PEM key).
    Object.assign(props, {
      'listener.name.ssl.ssl.client.auth': 'required',
      'listener.name.ssl.ssl.keystore.type': 'PEM',
      'listener.name.ssl.ssl.keystore.location': tls.brokerKeystore,
      'listener.name.ssl.ssl.truststore.type': 'PEM',
      'listener.name.ssl.ssl.truststore.location': tls.ca
    })
  }
  if (sasl !== null) Object.assign(props, saslProperties(sasl, 'sasl_plaintext'))
  if (sasl !== null && tls !== null) {
    Object.assign(props, saslProperties(sasl, 'sasl_ssl'), {
      'listener.name.sasl_ssl.ssl.client.auth': 'none',
      'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
      'listener.name.sasl_ssl.ssl.keystore.location': tls.brokerKeystore,
      'listener.name.sasl_ssl.ssl.truststore.type': 'PEM',
      'listener.name.sasl_ssl.ssl.truststore.location': tls.ca
    })
  }
  return { ...props, ...extra }
}

// Quiet: warnings and errors only, except the lifecycle lines readiness is judged by.
export function nodeLog4j (logFile: string): string {
  return `status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
`
}

// Command-line tools: warnings to stderr, so stdout carries only the tool's output.
export const TOOLS_LOG4J = `status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
`

export function clientSslProperties (tls: TlsFiles): Record<string, PropertyValue> {
  return {
    'security.protocol': 'SSL',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': tls.clientKeystore,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': tls.ca
  }
}
