// Section "common": the top-level keys of the process as a whole (threads, admin API, logging).
import { Type } from 'typebox'
import type { Static } from 'typebox'
import { checkHostPort, hostPort, int, literals } from './value-kinds.ts'
import { key } from './schema-kit.ts'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const

export const COMMON_KEYS = {
  workers: key(int(1, 256, 1), { flag: '--workers', live: false, doc: 'Worker threads; each listens on every port with SO_REUSEPORT.' }),
  admin: key(Type.Union([hostPort(), Type.Null()], { default: null }), {
    allowed: 'HOST:PORT or null',
    defaultText: 'null (no admin server)',
    flag: '--admin',
    live: false,
    doc: 'Admin HTTP server: /metrics, /stats, /ready, /healthz, /config_dump, /logging, /reload.',
    check: checkHostPort
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
