// Reads the config file (if any), parses its YAML and resolves it with the flags into a
// ProxyConfig. Every failure is a KproxyError('KPROXY_ERR_CONFIG') whose message names the file,
// or KPROXY_ERR_TLS_FILE when a TLS file it names cannot be used.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { parseConfigFile } from '@kproxy/core/config/config-file'
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import { checkTlsFiles } from '@kproxy/workers/net/check-tls-files'
import { prepareFilters } from '@kproxy/workers/filters/filter-loader'

export function loadConfig (file: string | null, flags: Readonly<Record<string, string | undefined>> = {}): ProxyConfig {
  const config = readConfig(file, flags)
  checkTlsFiles(config.brokerMode)
  for (const [i, c] of (config.mesh?.clusters ?? []).entries()) if (c.tls !== null) checkTlsFiles({ tls: null, upstreamTls: c.tls }, `mesh.clusters[${i}].tls`)
  return config
}

function readConfig (file: string | null, flags: Readonly<Record<string, string | undefined>>): ProxyConfig {
  if (file === null) return resolveConfig({ source: null, flags })
  const path = resolve(file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new KproxyError('KPROXY_ERR_CONFIG', `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const parsed = parseConfigFile(text, path)
  return resolveConfig({ source: path, file: parsed.value, locate: parsed.locate, flags })
}

// Loads every filter module the config names and runs each filter's own config check, on the main
// thread before any worker starts: a missing module, a module without a filter or a config the
// filter refuses is one KproxyError naming the file, the key and the filter.
export async function checkFilters (config: ProxyConfig): Promise<void> {
  await prepareFilters(config.brokerMode.filters, `${config.source ?? '<flags>'}: brokerMode.filters`)
  if (config.mesh !== null) await prepareFilters(config.mesh.filters, `${config.source ?? '<flags>'}: mesh.filters`)
}
