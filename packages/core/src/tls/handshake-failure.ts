// Why a TLS handshake failed, as one of a bounded set of reasons: the `reason` label of
// kproxy_tls_handshake_failures_total and the field of the log line. The mappings come from the
// errors Node 24 (OpenSSL 3) really raises; the tests provoke each one on 127.0.0.1.
//
// What Node reports, in short:
// - tls.Server 'tlsClientError' carries OpenSSL's error as code ERR_SSL_<REASON> (e.g.
//   ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE, ERR_SSL_WRONG_VERSION_NUMBER for plaintext bytes).
// - With requestCert + rejectUnauthorized: true, a client certificate that fails verification
//   (other CA, expired, ...) does NOT come with its reason: Node verifies after OpenSSL's
//   handshake and destroys the socket, and 'tlsClientError' only says ECONNRESET 'socket hang
//   up'. To count why, accept with rejectUnauthorized: false and call classifyPeerVerification
//   with socket.authorizationError (a code like CERT_HAS_EXPIRED) yourself.
// - A missing client certificate with rejectUnauthorized: false gives authorizationError
//   UNABLE_TO_GET_ISSUER_CERT and an empty peer certificate: hasPeerCertificate tells them apart.
// - In TLS 1.3 the client's handshake completes before the server has checked its certificate;
//   a refusal reaches the client later as an alert (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED).

export const TLS_FAILURE_REASONS = [
  'no_client_cert', 'unknown_ca', 'cert_expired', 'cert_not_yet_valid', 'bad_certificate', 'not_tls',
  'tls_on_plaintext_port', 'unknown_sni', 'protocol_version', 'no_shared_cipher', 'handshake_timeout',
  'upstream_unknown_ca', 'upstream_hostname_mismatch', 'upstream_cert_expired', 'upstream_bad_certificate',
  'upstream_handshake', 'other'
] as const

export type TlsFailureReason = typeof TLS_FAILURE_REASONS[number]

// Index of each reason in TLS_FAILURE_REASONS, for counters kept in typed arrays.
export const TLS_FAILURE_INDEX: Readonly<Record<TlsFailureReason, number>> =
  Object.freeze(Object.fromEntries(TLS_FAILURE_REASONS.map((r, i) => [r, i])) as Record<TlsFailureReason, number>)

// The code an SNICallback should fail with for a server name kproxy does not serve, so that
// 'tlsClientError' (which passes the callback's error through unchanged) classifies as unknown_sni.
export const UNKNOWN_SNI_CODE = 'KPROXY_ERR_TLS_UNKNOWN_SNI'

// X.509 verification results (OpenSSL X509_V_ERR_* as Node names them in
// authorizationError / err.code).
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_CHAIN_TOO_LONG'
])
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CRL_HAS_EXPIRED'])
const NOT_YET_VALID = new Set(['CERT_NOT_YET_VALID', 'CRL_NOT_YET_VALID'])
const CERT_PROBLEMS = new Set([
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'CERT_REJECTED', 'INVALID_PURPOSE', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'HOSTNAME_MISMATCH',
  'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_GET_CRL', 'CRL_SIGNATURE_FAILURE', 'INVALID_EXTENSION',
  'EE_KEY_TOO_SMALL', 'CA_KEY_TOO_SMALL', 'CA_MD_TOO_WEAK', 'INVALID_CALL', 'UNSPECIFIED'
])

// OpenSSL errors raised on a TLS port by bytes that are not a TLS record: a Kafka frame
// (length prefix 00 00 ..) gives WRONG_VERSION_NUMBER, 'GET /' gives HTTP_REQUEST, a huge
// record length DATA_LENGTH_TOO_LONG / PACKET_LENGTH_TOO_LONG.
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_HTTPS_PROXY_REQUEST',
  'ERR_SSL_DATA_LENGTH_TOO_LONG', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_RECORD_LENGTH_MISMATCH',
  'ERR_SSL_UNEXPECTED_EOF_WHILE_READING', 'ERR_SSL_UNKNOWN_PROTOCOL', 'ERR_SSL_RECORD_LAYER_FAILURE'
])
const PROTOCOL = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_UNSUPPORTED_SSL_VERSION',
  'ERR_SSL_VERSION_TOO_LOW', 'ERR_SSL_VERSION_TOO_HIGH', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK', 'ERR_SSL_INAPPROPRIATE_FALLBACK'
])
const CIPHER = new Set([
  'ERR_SSL_NO_SHARED_CIPHER', 'ERR_SSL_NO_CIPHERS_AVAILABLE', 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM',
  'ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS', 'ERR_SSL_NO_SUITABLE_KEY_SHARE', 'ERR_SSL_NO_SHARED_GROUPS'
])
// Alerts a client sends when it refuses kproxy's own certificate (Java clients do; Node and
// librdkafka clients may just close).
const PEER_ALERT: Record<string, TlsFailureReason> = {
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'unknown_ca',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'cert_expired',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'bad_certificate',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'bad_certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'bad_certificate',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'bad_certificate',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'other',
  ERR_SSL_TLSV1_UNRECOGNIZED_NAME: 'unknown_sni'
}

export function classifyDownstreamError (err: { code?: string, message?: string }): TlsFailureReason {
  const code = typeof err?.code === 'string' ? err.code : ''
  const message = typeof err?.message === 'string' ? err.message.toLowerCase() : ''
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' || code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') return 'no_client_cert'
  if (NOT_TLS.has(code)) return 'not_tls'
  if (PROTOCOL.has(code)) return 'protocol_version'
  if (CIPHER.has(code)) return 'no_shared_cipher'
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake_timeout'
  if (code === UNKNOWN_SNI_CODE) return 'unknown_sni'
  const alert = PEER_ALERT[code]
  if (alert !== undefined) return alert
  const cert = certReason(code)
  if (cert !== null) return cert
  // OpenSSL text for errors whose code Node might spell differently across versions.
  if (/wrong version number|http request|packet length too long|data length too long|unexpected eof/.test(message)) return 'not_tls'
  if (message.includes('peer did not return a certificate')) return 'no_client_cert'
  if (/unsupported protocol|protocol version/.test(message)) return 'protocol_version'
  if (message.includes('no shared cipher')) return 'no_shared_cipher'
  if (message.includes('handshake timeout')) return 'handshake_timeout'
  return 'other'
}

function certReason (code: string): TlsFailureReason | null {
  if (UNTRUSTED.has(code)) return 'unknown_ca'
  if (EXPIRED.has(code)) return 'cert_expired'
  if (NOT_YET_VALID.has(code)) return 'cert_not_yet_valid'
  if (CERT_PROBLEMS.has(code)) return 'bad_certificate'
  return null
}

// socket.authorizationError after a handshake with requestCert: true, rejectUnauthorized: false
// (a string code on the server side; an Error with .code on the client side).
export function classifyPeerVerification (authorizationError: string | Error | null | undefined, hasPeerCertificate: boolean): TlsFailureReason | null {
  if (!hasPeerCertificate) return 'no_client_cert'
  if (authorizationError === null || authorizationError === undefined) return null
  const code = typeof authorizationError === 'string'
    ? authorizationError
    : String((authorizationError as { code?: unknown }).code ?? authorizationError.message)
  return certReason(code) ?? 'bad_certificate'
}

export function classifyUpstreamError (err: { code?: string, message?: string, reason?: string }): TlsFailureReason {
  const code = typeof err?.code === 'string' ? err.code : ''
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'upstream_hostname_mismatch'
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake_timeout'
  switch (certReason(code)) {
    case 'unknown_ca': return 'upstream_unknown_ca'
    case 'cert_expired': case 'cert_not_yet_valid': return 'upstream_cert_expired'
    case 'bad_certificate': return 'upstream_bad_certificate'
    default: break
  }
  return 'upstream_handshake'
}

const DESCRIPTIONS: Record<TlsFailureReason, string> = {
  no_client_cert: 'The client presented no certificate although the listener requires one; configure the client with a keystore (ssl.keystore.location) or turn off client authentication.',
  unknown_ca: "The certificate is not signed by a CA the other side trusts; check that the client's certificate chains to kproxy's trusted CA (and, if the client sent the alert, that the client trusts kproxy's CA).",
  cert_expired: "The client's certificate has expired (or the client found kproxy's expired); renew the certificate and check both clocks.",
  cert_not_yet_valid: "The client's certificate is not valid yet; check its notBefore date and the clocks of the issuer and of kproxy.",
  bad_certificate: 'The certificate was refused (wrong key usage, bad signature, revoked, or similar); check that the client certificate is issued for client authentication by the trusted CA.',
  not_tls: 'The client sent bytes that are not TLS to a TLS listener; configure the client with security.protocol=SSL (or connect it to a plaintext port).',
  tls_on_plaintext_port: 'The client started a TLS handshake on a plaintext listener; configure the client with security.protocol=PLAINTEXT or connect it to the TLS port.',
  unknown_sni: 'The client asked for a server name (SNI) that kproxy does not serve; check the bootstrap address the client uses and the SNI routes.',
  protocol_version: 'Client and kproxy share no TLS version; compare the client\'s enabled protocols (ssl.enabled.protocols) with kproxy\'s minimum and maximum TLS version.',
  no_shared_cipher: 'Client and kproxy share no cipher suite or signature algorithm; compare ssl.cipher.suites with kproxy\'s ciphers and check the key type of the certificate.',
  handshake_timeout: 'The TLS handshake did not finish in time; check for a client that connects but does not speak TLS, or for a slow or lossy network.',
  upstream_unknown_ca: "The upstream broker's certificate is not signed by a CA kproxy trusts; add the broker's CA to kproxy's upstream trust store.",
  upstream_hostname_mismatch: "The upstream broker's certificate does not name the host kproxy connected to; fix the certificate's SANs or the upstream address (or the server name kproxy verifies).",
  upstream_cert_expired: "The upstream broker's certificate has expired or is not valid yet; renew it and check the clocks.",
  upstream_bad_certificate: "The upstream broker's certificate was refused (bad signature, wrong key usage, or similar); check the broker's keystore.",
  upstream_handshake: "The TLS handshake with the upstream broker failed; check that the upstream port speaks TLS, the TLS versions and ciphers, and that the broker accepts kproxy's client certificate.",
  other: 'The TLS handshake failed for a reason kproxy does not classify (often the peer closed the connection); see the error detail in the log line.'
}

export function describeTlsFailure (reason: TlsFailureReason): string {
  return DESCRIPTIONS[reason] ?? DESCRIPTIONS.other
}

// The first bytes of a TLS connection are a handshake record: content type 22 (0x16), then the
// record version 3.x, x 0..4 (SSL 3.0 .. TLS 1.3; ClientHellos use 3.1 in the record layer).
// A Kafka frame starts with a 4-byte size; 0x16 0x03 would mean ~369 MB, beyond any sane
// message.max.bytes, so the two do not overlap. Fewer than 3 bytes: false (read more first).
export function looksLikeTlsClientHello (chunk: Uint8Array): boolean {
  return chunk.length >= 3 && chunk[0] === 0x16 && chunk[1] === 0x03 && chunk[2]! <= 0x04
}
