// TLS on kproxy's client-facing listeners: the server options, client-certificate verification
// with a named reason for every refusal, the principal a verified certificate maps to, SNI
// targets, and certificate reload (new handshakes get the new files, open connections carry on).
//
// Client certificates are verified by hand (requestCert with rejectUnauthorized false, then
// socket.authorized / authorizationError) rather than inside OpenSSL: OpenSSL's own refusal
// reaches the server as one generic error, while the verification result names the cause
// (no certificate, unknown CA, expired, ...), which is what the log line and the
// tls_handshake_failures{reason} metric must say.
import { createServer } from 'node:tls'
import type { SecureContextOptions, Server, TLSSocket } from 'node:tls'
import type { Logger } from 'pino'
import type { DownstreamTlsConfig, SniConfig } from '@kproxy/core/config/proxy-config'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { identityFromX509, mapPrincipal, parsePrincipalRules } from '@kproxy/core/tls/principal-mapping'
import type { PrincipalRule } from '@kproxy/core/tls/principal-mapping'
import { classifyDownstreamError, classifyPeerVerification, describeTlsFailure } from '@kproxy/core/tls/handshake-failure'
import type { TlsFailureReason } from '@kproxy/core/tls/handshake-failure'
import { downstreamTlsFiles, readTlsFiles, watchPemFiles } from './tls-files.ts'
import type { PemFile } from './tls-files.ts'
import { TlsFailureLog } from './tls-failure-log.ts'

// Kafka's name for a TLS client that presented no certificate.
export const ANONYMOUS = 'ANONYMOUS'

export type SniTarget = { kind: 'bootstrap' } | { kind: 'broker', nodeId: number } | null

export class DownstreamTls {
  readonly config: DownstreamTlsConfig
  readonly #rules: PrincipalRule[]
  readonly #files: PemFile[]
  readonly #servers = new Set<Server>()
  readonly #log: Logger
  readonly #metrics: ProxyMetrics
  readonly #failures: TlsFailureLog
  #options: SecureContextOptions
  #unwatch: (() => void) | null = null

  // Reads and checks the files now: a bad certificate stops the start with a clear error.
  constructor (config: DownstreamTlsConfig, logger: Logger, metrics: ProxyMetrics) {
    this.config = config
    this.#log = logger
    this.#metrics = metrics
    this.#failures = new TlsFailureLog(logger)
    this.#rules = parsePrincipalRules(config.principalMappingRules)
    this.#files = downstreamTlsFiles(config)
    this.#options = this.#load()
  }

  // throws on files that cannot be used (start) — a reload catches that and keeps the old ones
  #load (): SecureContextOptions {
    const c = this.config
    return readTlsFiles(this.#files, { minVersion: c.minVersion, maxVersion: c.maxVersion, ...(c.ciphers !== null ? { ciphers: c.ciphers } : {}) }).options
  }

  // A TLS server whose 'secureConnection' sockets have passed verify(); failed handshakes are
  // logged and counted here.
  createServer (onSecure: (socket: TLSSocket) => void): Server {
    const c = this.config
    const server = createServer({
      ...this.#options,
      requestCert: c.clientAuth !== 'none',
      rejectUnauthorized: false,
      handshakeTimeout: c.handshakeTimeoutMs,
      noDelay: true
    }, onSecure)
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      this.refuse(socket, classifyDownstreamError(err), err.message)
    })
    server.on('close', () => this.#servers.delete(server))
    this.#servers.add(server)
    if (this.#unwatch === null) this.#unwatch = watchPemFiles(this.#files, this.#reload.bind(this))
    return server
  }

  // The principal of a handshaken connection, or null after refusing it (socket destroyed).
  verify (socket: TLSSocket): string | null {
    const mode = this.config.clientAuth
    if (mode === 'none') {
      this.#metrics.tlsHandshake()
      return ANONYMOUS
    }
    const cert = socket.getPeerX509Certificate()
    if (cert === undefined && mode === 'request') {
      this.#metrics.tlsHandshake()
      return ANONYMOUS
    }
    const reason = classifyPeerVerification(socket.authorizationError, cert !== undefined)
    if (reason !== null) {
      this.refuse(socket, reason, String(socket.authorizationError ?? 'no certificate'))
      return null
    }
    this.#metrics.tlsHandshake()
    return mapPrincipal(this.#rules, identityFromX509(cert!))
  }

  refuse (socket: TLSSocket, reason: TlsFailureReason, detail: string): void {
    this.#metrics.tlsHandshakeFailure(reason)
    this.#failures.record({
      code: 'KPROXY_ERR_TLS_HANDSHAKE',
      reason,
      peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      servername: typeof socket.servername === 'string' ? socket.servername : undefined,
      detail
    }, `TLS handshake refused (${reason}): ${describeTlsFailure(reason)}`)
    socket.destroy()
  }

  #reload (): void {
    let options: SecureContextOptions
    try {
      options = this.#load()
    } catch (err) {
      this.#log.error({ code: (err as { code?: string }).code, err: (err as Error).message }, 'TLS files changed but cannot be used; new handshakes keep the previous certificate')
      return
    }
    this.#options = options
    for (const server of this.#servers) server.setSecureContext({ ...options })
    this.#log.info({ files: this.#files.map(f => f.path) }, 'TLS files reloaded; new handshakes use them')
  }

  close (): void {
    this.#unwatch?.()
    this.#unwatch = null
  }
}

// SNI: which upstream a server name stands for. A client that sends no name (an IP address
// in its bootstrap list) gets the bootstrap; a name that is neither gets null (refused).
export function sniTarget (sni: SniConfig, servername: string | false | null | undefined): SniTarget {
  if (typeof servername !== 'string' || servername === '') return { kind: 'bootstrap' }
  const name = servername.toLowerCase()
  if (name === sni.bootstrapName.toLowerCase()) return { kind: 'bootstrap' }
  const at = sni.brokerNamePattern.indexOf('{id}')
  const prefix = sni.brokerNamePattern.slice(0, at).toLowerCase()
  const suffix = sni.brokerNamePattern.slice(at + 4).toLowerCase()
  if (name.length <= prefix.length + suffix.length || !name.startsWith(prefix) || !name.endsWith(suffix)) return null
  const id = name.slice(prefix.length, name.length - suffix.length)
  if (!/^\d{1,9}$/.test(id)) return null
  return { kind: 'broker', nodeId: Number(id) }
}

export function sniBrokerName (sni: SniConfig, nodeId: number): string {
  return sni.brokerNamePattern.replace('{id}', String(nodeId))
}
