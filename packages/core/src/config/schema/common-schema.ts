// Section "common": the top-level keys of the process as a whole (threads, admin API, logging).
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { adminTokenProblem, checkHostPort, hostPort, int, literals } from './value-kinds.ts'
import { group, key, requiredKey } from './schema-kit.ts'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

const ADMIN_ADDRESS = hostPort()
const ADMIN_PORT = Type.Integer({ minimum: 1, maximum: 65535 })
const ADMIN_GROUP = group({
  listen: requiredKey(hostPort(), { allowed: 'HOST:PORT', doc: 'Where the admin API listens (loopback unless you need it elsewhere).', check: checkHostPort }),
  token: key(Type.String(), {
    allowed: 'at least 16 printable characters without spaces',
    doc: 'Bearer token every endpoint but /ready, /healthz and the dashboard page needs (also KPROXY_ADMIN_TOKEN); never shown in /config_dump.',
    check: v => typeof v === 'string' ? adminTokenProblem(v) ?? undefined : undefined
  })
})

export const COMMON_KEYS = {
  workers: key(int(1, 256, 1), { flag: '--workers', live: false, doc: 'Worker threads; each listens on every port with SO_REUSEPORT.' }),
  admin: key(Type.Union([ADMIN_ADDRESS, ADMIN_PORT, ADMIN_GROUP, Type.Null()], { default: null }), {
    allowed: 'HOST:PORT, a PORT (on 127.0.0.1), { listen: HOST:PORT, token: TOKEN }, or null',
    defaultText: 'null (no admin server)',
    flag: '--admin',
    live: false,
    doc: 'Admin HTTP server (docs/admin-api.md): the dashboard, /api/*, /metrics, /stats, /ready, /healthz, /config_dump, /logging, /reload.',
    check: v => typeof v === 'string' ? checkHostPort(v) : undefined,
    select: v => v === null ? Type.Null() : typeof v === 'string' ? ADMIN_ADDRESS : typeof v === 'number' ? ADMIN_PORT : typeof v === 'object' && !Array.isArray(v) ? ADMIN_GROUP : 'allowed: HOST:PORT, a PORT (on 127.0.0.1), { listen: HOST:PORT, token: TOKEN }, or null'
  }),
  youngGenerationMb: key(int(0, 1024, 8), {
    flag: '--young-generation-mb',
    live: false,
    defaultText: '8 (0: V8\'s own, 32 in Node 24)',
    doc: "How far V8 may grow each thread's young generation (--scavenger-max-new-space-capacity-mb). Socket read buffers die young; with a small young generation scavenges free them, instead of full mark-compact collections every ~64 MB read (docs/performance.md)."
  }),
  shutdownTimeoutMs: key(int(0, 3_600_000, 10_000), { live: true, doc: 'SIGTERM: how long in-flight requests may take to finish before the process exits.' }),
  logLevel: key(literals(LOG_LEVELS, 'info'), { flag: '--log-level', live: true, doc: 'pino log level of every thread (also POST /logging?level=).' }),
  statPrefix: key(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$', default: 'kproxy' }), {
    allowed: 'letters, digits and _',
    live: true,
    doc: 'Prefix of the Envoy-style names in /stats: kafka.<statPrefix>.request.produce_request.'
  })
}

export type LogLevel = typeof LOG_LEVELS[number]
export type CommonFile = Static<ReturnType<typeof Type.Object<typeof COMMON_KEYS>>>
