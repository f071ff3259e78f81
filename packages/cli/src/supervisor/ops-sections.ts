// Until the config schema (packages/core/src/config/config-schema.ts) has them, the sections of
// the operations work are taken out of the parsed file here, validated on their own and put back
// on the resolved ProxyConfig:
//   stats: ...                                 -> config.stats (stats-config.ts)
//   admin: { listen: HOST:PORT, token: TEXT }  -> config.admin = { host, port, token }
// `admin: HOST:PORT` (the schema's form) passes through untouched. When the schema gains these
// keys, this file and its two calls in load-config.ts go away.
import { KproxyError } from '@kproxy/core'
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import { checkStatsConfig } from '@kproxy/core/metrics/stats-config'
import type { StatsConfig } from '@kproxy/core/metrics/stats-config'
import { tokenProblem } from '../admin/admin-access.ts'

export interface OpsSections {
  // the file without the sections taken out, for the schema
  rest: unknown
  stats: StatsConfig | null
  adminToken: string | null
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function takeOpsSections (file: unknown, where: string): OpsSections {
  if (!isRecord(file)) return { rest: file, stats: null, adminToken: null }
  const { stats: rawStats, ...rest } = file
  const errors: string[] = []
  let stats: StatsConfig | null = null
  if (rawStats !== undefined) {
    const checked = checkStatsConfig(rawStats, where)
    errors.push(...checked.errors)
    stats = checked.config
  }
  let adminToken: string | null = null
  if (isRecord(rest.admin)) {
    const { listen, token, ...other } = rest.admin
    for (const k of Object.keys(other)) errors.push(`${where}: admin.${k}: unknown key; allowed keys here: listen, token`)
    if (typeof listen !== 'string') errors.push(`${where}: admin.listen: got ${JSON.stringify(listen)}, allowed: HOST:PORT`)
    else rest.admin = listen
    if (token !== undefined && token !== null) {
      const problem = typeof token === 'string' ? tokenProblem(token) : 'it must be a string'
      if (problem !== null) errors.push(`${where}: admin.token: ${problem}`)
      else adminToken = token as string
    }
  }
  if (errors.length > 0) throw new KproxyError('KPROXY_ERR_CONFIG', errors.length === 1 ? errors[0]! : `${errors.length} configuration errors:\n  ${errors.join('\n  ')}`)
  return { rest, stats, adminToken }
}

export function putOpsSections (config: ProxyConfig, sections: OpsSections): ProxyConfig {
  const out = sections.stats === null ? config : { ...config, stats: sections.stats }
  if (sections.adminToken !== null && out.admin !== null) return { ...out, admin: { ...out.admin, token: sections.adminToken } as ProxyConfig['admin'] }
  return out
}
