// brokerMode.tls.mode on a real listening socket: permissive takes TLS (with the client
// certificate's principal) and plaintext (no principal, flagged) on one port; strict refuses
// plaintext as not_tls; disabled refuses a ClientHello; the mode is read at each connection.
import t from 'tap'
import { connect as connectTcp } from 'node:net'
import type { Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { createCa, issueCertificate } from '@kproxy/core/certs/x509'
import type { DownstreamTlsConfig, TlsMode } from '@kproxy/core/config/proxy-config'
import { MetricsRegistry } from '@kproxy/core/metrics/metrics-registry'
import { TLS_FAILURE_INDEX } from '@kproxy/core/tls/handshake-failure'
import { DownstreamTls } from '../../src/net/downstream-tls.ts'
import { ListenerSet } from '../../src/net/listener-set.ts'
import type { Accepted } from '../../src/net/listener-set.ts'
import { freePort } from '../free-port.ts'

const dir = t.testdir()
const ca = await createCa({ days: 1 })
const server = await issueCertificate(ca, { name: 'localhost', server: true, sans: ['IP:127.0.0.1'], days: 1 })
const alice = await issueCertificate(ca, { name: 'alice', client: true, days: 1 })
writeFileSync(join(dir, 'server.crt'), server.chain)
writeFileSync(join(dir, 'server.key'), server.key)
writeFileSync(join(dir, 'ca.crt'), ca.cert)

const config: DownstreamTlsConfig = {
  mode: 'permissive',
  cert: join(dir, 'server.crt'),
  key: join(dir, 'server.key'),
  ca: join(dir, 'ca.crt'),
  clientAuth: 'require',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: null,
  principalMappingRules: ['RULE:^CN=([^,]+)$/$1/', 'DEFAULT'],
  handshakeTimeoutMs: 2000
}

// a free port, then listen on it

async function start (t: { teardown (fn: () => void): void }, mode: { current: TlsMode }, metrics: MetricsRegistry): Promise<{ port: number, accepted: Array<Accepted<string>> }> {
  const logger = pino({ level: 'silent' })
  const tls = new DownstreamTls(config, logger, metrics)
  const accepted: Array<Accepted<string>> = []
  const set = new ListenerSet<string>({
    host: '127.0.0.1',
    reusePort: false,
    tls,
    logger,
    tlsMode: () => mode.current,
    accept: c => {
      accepted.push(c)
      c.socket.once('data', chunk => c.socket.end(chunk))
      c.socket.resume()
    }
  })
  t.teardown(() => set.close())
  const port = await freePort()
  await set.listen('bootstrap', port)
  return { port, accepted }
}

function plaintext (port: number, payload: Buffer): Promise<Buffer | null> {
  return new Promise(resolve => {
    const s: Socket = connectTcp({ host: '127.0.0.1', port }, () => s.write(payload))
    const got: Buffer[] = []
    s.on('data', c => got.push(c))
    s.on('error', () => {})
    s.on('close', () => resolve(got.length === 0 ? null : Buffer.concat(got)))
  })
}

function overTls (port: number, payload: Buffer): Promise<Buffer | null> {
  return new Promise(resolve => {
    const s = connectTls({ host: '127.0.0.1', port, ca: ca.cert, cert: alice.cert, key: alice.key, servername: 'localhost' }, () => s.write(payload))
    const got: Buffer[] = []
    s.on('data', c => got.push(c))
    s.on('error', () => {})
    s.on('close', () => resolve(got.length === 0 ? null : Buffer.concat(got)))
  })
}

// a Kafka request's first bytes: a size prefix, then ApiVersions' key and version
const KAFKA = Buffer.from([0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0])

t.test('permissive: TLS and plaintext on one port; strict: plaintext refused; disabled: TLS refused', async t => {
  const mode = { current: 'permissive' as TlsMode }
  const metrics = new MetricsRegistry()
  const { port, accepted } = await start(t, mode, metrics)

  t.same(await plaintext(port, KAFKA), KAFKA, 'plaintext: accepted, the sniffed bytes reach the session intact')
  t.same(await overTls(port, Buffer.from('over tls')), Buffer.from('over tls'), 'TLS: handshake, then the bytes')
  t.same(accepted.map(a => [a.plaintext, a.principal]), [[true, null], [false, 'alice']], 'plaintext is flagged and has no principal; TLS carries the certificate\'s')

  // a plaintext client whose first chunk is one byte: still not TLS
  t.same(await plaintext(port, Buffer.from([0])), Buffer.from([0]))

  mode.current = 'strict'
  t.equal(await plaintext(port, KAFKA), null, 'strict: plaintext refused')
  t.equal(metrics.snapshot().tlsHandshakeFailures[TLS_FAILURE_INDEX.not_tls], 1, 'strict hands the socket to TLS unread, as before modes existed: counted as not_tls')
  t.same(await overTls(port, Buffer.from('tls again')), Buffer.from('tls again'), 'strict: TLS as before')

  mode.current = 'disabled'
  t.equal(await overTls(port, Buffer.from('x')), null, 'disabled: a ClientHello is refused')
  t.equal(metrics.snapshot().tlsHandshakeFailures[TLS_FAILURE_INDEX.tls_on_plaintext_port], 1, 'counted as tls_on_plaintext_port')
  t.same(await plaintext(port, KAFKA), KAFKA, 'disabled: plaintext accepted')
})

t.test('permissive: a client that sends nothing is dropped after handshakeTimeoutMs', async t => {
  const mode = { current: 'permissive' as TlsMode }
  const { port, accepted } = await start(t, mode, new MetricsRegistry())
  const closed = await new Promise<boolean>(resolve => {
    const s = connectTcp({ host: '127.0.0.1', port })
    s.on('error', () => {})
    s.on('close', () => resolve(true))
  })
  t.ok(closed)
  t.equal(accepted.length, 0)
})
