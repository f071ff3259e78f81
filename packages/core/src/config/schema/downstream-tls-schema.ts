// TLS toward clients on a client-facing listener: brokerMode.tls (with command-line flags) and
// mesh.tls (the same keys, no flags). Every key needs a restart except `mode`, which a reload
// applies to new and open connections (docs/policy.md: moving a listener from permissive to
// strict).
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { parsePrincipalRules } from '../../tls/principal-mapping.ts'
import type { DownstreamTlsConfig, TlsVersion } from '../proxy-config.ts'
import { group, key } from './schema-kit.ts'
import type { ResolveContext } from './resolve-context.ts'
import { filePath, int, literals, TLS_VERSIONS } from './value-kinds.ts'
import { withDefaults } from './defaults.ts'

export const TLS_MODES = ['strict', 'permissive', 'disabled'] as const

function tlsVersion (doc: string, dflt: TlsVersion): ReturnType<typeof key<ReturnType<typeof literals<typeof TLS_VERSIONS>>>> {
  return key(literals(TLS_VERSIONS, dflt), { allowed: TLS_VERSIONS.join(' or '), doc, live: false })
}

// `withFlags`: the keys have their --tls-* flags (brokerMode.tls only: one flag names one key)
export function downstreamTlsGroup (withFlags: boolean) {
  const flag = (name: string): { flag?: string } => withFlags ? { flag: name } : {}
  const path = (doc: string, name: string): ReturnType<typeof key<ReturnType<typeof filePath>>> =>
    key(filePath(), { allowed: 'a file path', doc, live: false, ...flag(name) })
  return group({
    cert: path('PEM certificate chain (leaf first) clients see.', '--tls-cert'),
    key: path('PEM private key of that certificate (never logged or shown).', '--tls-key'),
    ca: path('PEM CA certificates trusted for client certificates.', '--tls-ca'),
    clientAuth: key(literals(['none', 'request', 'require']), {
      allowed: 'none, request or require',
      defaultText: 'none (require when ca is set)',
      ...flag('--tls-client-auth'),
      live: false,
      doc: 'Client certificates: none; request (verified when sent); require (mTLS).'
    }),
    minVersion: tlsVersion('Oldest TLS version accepted.', 'TLSv1.2'),
    maxVersion: tlsVersion('Newest TLS version offered.', 'TLSv1.3'),
    ciphers: key(Type.String({ minLength: 1 }), { allowed: 'an OpenSSL cipher list', defaultText: "Node's default", live: false, doc: 'TLS 1.2 cipher suites.' }),
    principalMappingRules: key(Type.Array(Type.String(), { default: ['DEFAULT'] }), {
      allowed: 'a list of RULE:regex/replacement/[LU], SAN:regex/replacement/[LU] or DEFAULT',
      defaultText: '[DEFAULT] (the full subject DN)',
      live: false,
      doc: "Client certificate -> principal, like Kafka's ssl.principal.mapping.rules; first match wins.",
      check: v => {
        if (!Array.isArray(v) || !v.every(r => typeof r === 'string')) return undefined
        try {
          parsePrincipalRules(v as string[])
        } catch (err) {
          return (err as Error).message
        }
        return undefined
      }
    }),
    handshakeTimeoutMs: key(int(100, 600_000, 10_000), { live: false, doc: 'A TLS handshake that takes longer is refused (handshake_timeout); on a permissive listener also the wait for the first bytes.' }),
    mode: key(literals(TLS_MODES, 'strict'), {
      allowed: 'strict, permissive or disabled',
      ...flag('--tls-mode'),
      live: true,
      doc: 'strict: TLS only; permissive: TLS and plaintext on the same port (a ClientHello gets the handshake, anything else is plaintext as ANONYMOUS, counted); disabled: plaintext only.'
    })
  })
}

export type DownstreamTlsFile = Static<ReturnType<typeof downstreamTlsGroup>>

// The group's cross-key rules; null: no TLS (absent or empty). `section`: where it sits
// (brokerMode or mesh), for the messages; `withFlags`: the messages name the flags too.
export function resolveDownstreamTls (file: DownstreamTlsFile | undefined, section: string, ctx: ResolveContext, withFlags: boolean): DownstreamTlsConfig | null {
  if (file === undefined || Object.keys(file).length === 0) return null
  const t = withDefaults(downstreamTlsGroup(withFlags), file)
  const { cert, key } = t
  if (cert === undefined || key === undefined) {
    ctx.report([section, 'tls'], `${section}.tls: set both cert and key${withFlags ? ' (--tls-cert, --tls-key)' : ''} to enable TLS; got ${cert === undefined ? 'no cert' : 'no key'}`)
    return null
  }
  const ca = t.ca ?? null
  const clientAuth = t.clientAuth ?? (ca !== null ? 'require' : 'none')
  if (clientAuth !== 'none' && ca === null) {
    ctx.report([section, 'tls', 'clientAuth'], `${section}.tls.clientAuth: ${clientAuth} needs ${section}.tls.ca${withFlags ? ' (--tls-ca)' : ''}, the CA that signs client certificates`)
  }
  const minVersion = t.minVersion!
  const maxVersion = t.maxVersion!
  if (minVersion > maxVersion) ctx.report([section, 'tls', 'minVersion'], `${section}.tls: minVersion ${minVersion} is above maxVersion ${maxVersion}`)
  return {
    mode: t.mode ?? 'strict',
    cert,
    key,
    ca,
    clientAuth,
    minVersion,
    maxVersion,
    ciphers: t.ciphers ?? null,
    principalMappingRules: t.principalMappingRules!,
    handshakeTimeoutMs: t.handshakeTimeoutMs!
  }
}
