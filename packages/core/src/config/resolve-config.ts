// File, then flags, then defaults, into the ProxyConfig every layer reads. The schema checks each
// key; each section's resolver adds its cross-key rules and computed defaults. Every problem is
// collected and thrown at once as a ConfigError.
import { dirname } from 'node:path'
import { Type } from 'typebox'
import type { TSchema } from 'typebox'
import { ConfigError } from './config-error.ts'
import type { ConfigFile } from './config-file.ts'
import { formatHostPort, parseHostPort } from './host-port.ts'
import type { AdminConfig, HostPort, ProxyConfig } from './proxy-config.ts'
import { resolveStats } from './schema/stats-schema.ts'
import { checkMeshPolicy, resolvePolicy } from './schema/policy-schema.ts'
import { resolveBrokerMode } from './schema/broker-mode-schema.ts'
import { resolveMesh } from './schema/mesh-schema.ts'
import { COMMON_KEYS } from './schema/common-schema.ts'
import { CONFIG_FLAGS, schemaAt } from './schema/config-keys.ts'
import { withDefaults } from './schema/defaults.ts'
import { KPROXY_SCHEMA } from './schema/kproxy-schema.ts'
import type { KproxyFile } from './schema/kproxy-schema.ts'
import type { ResolveContext } from './schema/resolve-context.ts'
import { allowedText } from './schema/schema-kit.ts'
import type { PathPart } from './schema/schema-kit.ts'
import { checkLeaf, INVALID, validate } from './schema/validate.ts'
import type { Problem } from './schema/validate.ts'

export interface ConfigSources {
  // Absolute path of the config file, if any.
  source?: string | null
  // The parsed file (parseConfigFile(...).value), or a plain value in tests.
  file?: unknown
  // Turns a key path into the line and column it was written at (parseConfigFile(...).locate).
  locate?: ConfigFile['locate']
  // Command-line flags by name without '--' (see CONFIG_FLAGS); they overlay the file.
  flags?: Readonly<Record<string, string | undefined>>
}

// A flag's text as the value its key takes: numbers and booleans are typed in YAML, not in argv.
function fromFlag (schema: TSchema, text: string): unknown {
  const type = (schema as { type?: unknown }).type
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text
  return text
}

function setAt (target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = target
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>
  node[parts[parts.length - 1]!] = value
}

function startsWith (path: readonly PathPart[], prefix: readonly PathPart[]): boolean {
  return prefix.every((p, i) => path[i] === p)
}

const COMMON = Type.Object(COMMON_KEYS)

export function resolveConfig (sources: ConfigSources): ProxyConfig {
  const where = sources.source ?? '<flags>'
  const errors: string[] = []
  const failed: Array<readonly PathPart[]> = []
  const at = (path: readonly PathPart[], atKey = false): string => {
    const pos = sources.locate?.(path, atKey) ?? null
    return pos === null ? where : `${where}:${pos.line}:${pos.column}`
  }
  const problems: Problem[] = []
  const validated = validate(KPROXY_SCHEMA, sources.file ?? {}, [], problems)
  for (const p of problems) {
    errors.push(`${at(p.path, p.atKey)}: ${p.message}`)
    failed.push(p.path)
  }
  const settings = (validated === INVALID ? {} : validated) as KproxyFile & Record<string, unknown>
  for (const [flag, text] of Object.entries(sources.flags ?? {})) {
    if (text === undefined) continue
    const path = CONFIG_FLAGS.get(flag)
    if (path === undefined) { errors.push(`--${flag}: unknown flag`); continue }
    const schema = schemaAt(path)!
    const value = fromFlag(schema, text)
    const failure = checkLeaf(schema, value)
    if (failure !== undefined) {
      errors.push(`--${flag} (${path}): ${failure.reason !== undefined ? failure.reason + '; ' : ''}got '${text}', allowed: ${allowedText(schema)}`)
      failed.push(path.split('.'))
      continue
    }
    setAt(settings, path, value)
  }
  const ctx: ResolveContext = {
    baseDir: sources.source != null ? dirname(sources.source) : process.cwd(),
    report: (path, message) => errors.push(`${at(path)}: ${message}`),
    failed: path => failed.some(f => startsWith(f, path))
  }
  const common = withDefaults(COMMON, settings)
  const meshFile = settings.mesh
  if (meshFile !== undefined && settings.brokerMode !== undefined) {
    ctx.report(['brokerMode'], 'brokerMode and mesh are exclusive: one kproxy runs either broker mode (one cluster) or mesh mode (several); allowed: one of the two sections')
  }
  const brokerMode = resolveBrokerMode(settings.brokerMode ?? {}, ctx, meshFile === undefined && !ctx.failed(['mesh']))
  const mesh = meshFile === undefined ? null : resolveMesh(meshFile, ctx)
  const admin = resolveAdmin(common.admin)
  const policy = resolvePolicy(settings.policy, ctx)
  if (mesh !== null) checkMeshPolicy(policy, ctx)
  const listenPort = mesh !== null ? mesh.listen.port : brokerMode.listen.port
  if (admin !== null && admin.port === listenPort) {
    ctx.report(['admin'], `admin: ${formatHostPort(admin)} uses the listen port; allowed: another port`)
  }
  if (errors.length > 0) throw new ConfigError(errors)
  return {
    source: sources.source ?? null,
    brokerMode,
    mesh,
    workers: common.workers!,
    youngGenerationMb: common.youngGenerationMb!,
    admin,
    shutdownTimeoutMs: common.shutdownTimeoutMs!,
    logLevel: common.logLevel!,
    statPrefix: common.statPrefix!,
    stats: resolveStats(settings.stats),
    policy
  }
}

// HOST:PORT, a port on loopback, or { listen, token }.
function resolveAdmin (value: unknown): AdminConfig | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return { host: '127.0.0.1', port: value, token: null }
  if (typeof value === 'string') return { ...parseHostPort(value) as HostPort, token: null }
  const a = value as { listen: string, token?: string }
  return { ...parseHostPort(a.listen) as HostPort, token: a.token ?? null }
}
