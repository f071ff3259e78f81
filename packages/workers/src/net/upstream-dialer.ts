// How kproxy opens its connections to the upstream: plain TCP, or TLS with CA verification, a
// hostname check and an optional client certificate (mTLS to brokers, or to the broker-side
// kproxy of a double proxy). Both the per-client connections and the Metadata lookups dial here.
import { connect as connectTcp, isIP } from 'node:net'
import type { Socket } from 'node:net'
import { checkServerIdentity, connect as connectTls, createSecureContext } from 'node:tls'
import type { PeerCertificate, SecureContext, SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import type { HostPort, UpstreamTlsConfig } from '@kproxy/core/config/proxy-config'
import type { ProxyMetrics } from '@kproxy/core/metrics/proxy-metrics'
import { classifyUpstreamError, describeTlsFailure } from '@kproxy/core/tls/handshake-failure'
import type { TlsFailureReason } from '@kproxy/core/tls/handshake-failure'
import { readTlsFiles, upstreamTlsFiles, watchPemFiles } from './tls-files.ts'
import type { PemFile } from './tls-files.ts'
import { TlsFailureLog } from './tls-failure-log.ts'
import type { UpstreamLogin } from '../upstream/upstream-sasl-login.ts'
import type { OnRead } from './read-slabs.ts'

export interface UpstreamDialer {
  readonly secure: boolean
  // kproxy's own SASL login (policy.sasl.upstream), run on every connection before it is ready
  readonly login?: UpstreamLogin | null
  // the event after which the socket carries Kafka bytes
  readonly readyEvent: 'connect' | 'secureConnect'
  // `identity`: a client certificate for this connection instead of the configured one
  // (upstreamIdentity: certificate); only a TLS dialer can present one. `onread`: read into the
  // caller's buffers (static read buffers, read-slabs.ts)
  dial (to: HostPort, identity?: ClientIdentity | null, onread?: OnRead | null): Socket
  // An error on a dialled socket before readyEvent: the TLS reason when TCP had connected and
  // the TLS handshake failed (counted and logged here), null for a plain connect failure.
  handshakeFailed (socket: Socket, err: Error): TlsFailureReason | null
  close (): void
}

// A client certificate (chain, leaf first) and its key.
export interface ClientIdentity {
  readonly chain: string
  readonly key: string
}

export const plainDialer: UpstreamDialer = {
  secure: false,
  readyEvent: 'connect',
  dial: (to, _identity, onread) => connectTcp(onread != null ? { host: to.host, port: to.port, onread } : { host: to.host, port: to.port }),
  handshakeFailed: () => null,
  close () {}
}

// no hostname check (checkHostname: false); the chain is still verified against the CA
function skipIdentity (): undefined { return undefined }

class TlsDialer implements UpstreamDialer {
  readonly secure = true
  readonly readyEvent = 'secureConnect' as const
  readonly #config: UpstreamTlsConfig
  readonly #files: PemFile[]
  readonly #log: Logger
  readonly #metrics: ProxyMetrics
  readonly #failures: TlsFailureLog
  readonly #tcpConnected = new WeakSet<Socket>()
  #context: SecureContext
  // the configured options (CA, versions) that a per-principal context starts from
  #options: SecureContextOptions = {}
  // per-principal contexts, by certificate (a renewed certificate is a new object)
  #identities = new WeakMap<ClientIdentity, SecureContext>()
  readonly #unwatch: () => void

  constructor (config: UpstreamTlsConfig, logger: Logger, metrics: ProxyMetrics, at?: string) {
    this.#config = config
    this.#log = logger
    this.#metrics = metrics
    this.#failures = new TlsFailureLog(logger)
    this.#files = upstreamTlsFiles(config, at)
    this.#context = this.#load()
    this.#unwatch = this.#files.length > 0 ? watchPemFiles(this.#files, this.#reload.bind(this)) : () => {}
  }

  #load (): SecureContext {
    const c = this.#config
    const { options, context } = readTlsFiles(this.#files, { minVersion: c.minVersion, maxVersion: c.maxVersion })
    this.#options = options
    this.#identities = new WeakMap()
    return context
  }

  #contextFor (identity: ClientIdentity): SecureContext {
    let context = this.#identities.get(identity)
    if (context === undefined) {
      const { cert: _cert, key: _key, ...base } = this.#options
      context = createSecureContext({ ...base, cert: identity.chain, key: identity.key })
      this.#identities.set(identity, context)
    }
    return context
  }

  #reload (): void {
    try {
      this.#context = this.#load()
      this.#log.info({ files: this.#files.map(f => f.path) }, 'upstream TLS files reloaded; new upstream connections use them')
    } catch (err) {
      this.#log.error({ code: (err as { code?: string }).code, err: (err as Error).message }, 'upstream TLS files changed but cannot be used; new connections keep the previous ones')
    }
  }

  // `identity`: a client certificate for this connection instead of the configured one
  // (upstreamIdentity: certificate); only a TLS dialer can present one
  dial (to: HostPort, identity?: ClientIdentity | null, onread?: OnRead | null): Socket {
    const c = this.#config
    const name = c.serverName ?? (isIP(to.host) === 0 ? to.host : undefined)
    const socket = connectTls({
      host: to.host,
      port: to.port,
      secureContext: identity != null ? this.#contextFor(identity) : this.#context,
      // an IP address is not a valid SNI name; the certificate is then checked for an IP SAN
      ...(name !== undefined ? { servername: name } : {}),
      rejectUnauthorized: true,
      // TLS reads the decrypted bytes into these buffers (tls.connect without a `socket`)
      ...(onread != null ? { onread } : {}),
      checkServerIdentity: !c.checkHostname
        ? skipIdentity
        : c.serverName !== null
          ? (_host: string, cert: PeerCertificate) => checkServerIdentity(c.serverName!, cert)
          : checkServerIdentity
    })
    socket.setNoDelay(true)
    socket.once('connect', () => { this.#tcpConnected.add(socket) })
    return socket
  }

  handshakeFailed (socket: Socket, err: Error): TlsFailureReason | null {
    if (!this.#tcpConnected.has(socket)) return null
    const reason = classifyUpstreamError(err as Error & { code?: string })
    this.#metrics.tlsHandshakeFailure(reason)
    this.#failures.record({
      code: 'KPROXY_ERR_UPSTREAM_TLS',
      reason,
      upstream: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      detail: err.message
    }, `TLS handshake with the upstream failed (${reason}): ${describeTlsFailure(reason)}`)
    return reason
  }

  close (): void {
    this.#unwatch()
  }
}

// `at`: the key of the settings, for file errors (default brokerMode.upstreamTls)
export function createUpstreamDialer (config: UpstreamTlsConfig | null, logger: Logger, metrics: ProxyMetrics, at?: string): UpstreamDialer {
  return config === null ? plainDialer : new TlsDialer(config, logger, metrics, at)
}

// The same dialer with kproxy's own SASL login on each connection it opens (`login()` is asked
// at each connection: a reload may change or remove it).
export function withLogin (dialer: UpstreamDialer, login: () => UpstreamLogin | null): UpstreamDialer {
  return {
    secure: dialer.secure,
    readyEvent: dialer.readyEvent,
    get login () { return login() },
    dial: (to, identity, onread) => dialer.dial(to, identity, onread),
    handshakeFailed: (socket, err) => dialer.handshakeFailed(socket, err),
    close: () => dialer.close()
  }
}
