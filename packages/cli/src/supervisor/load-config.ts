// Reads the config file (if any), parses the YAML subset and resolves it with the flags into a
// ProxyConfig. Every failure is a KproxyError('KPROXY_ERR_CONFIG') whose message names the file,
// or KPROXY_ERR_TLS_FILE when a TLS file it names cannot be used.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { KproxyError } from '@kproxy/core'
import { resolveConfig } from '@kproxy/core/config/config-schema'
import { parseYamlSubset } from '@kproxy/core/config/yaml-subset'
import type { ProxyConfig } from '@kproxy/core/config/proxy-config'
import { checkTlsFiles } from '@kproxy/workers/tls/check-tls-files'
import { putOpsSections, takeOpsSections } from './ops-sections.ts'

export function loadConfig (file: string | null, flags: Readonly<Record<string, string | undefined>> = {}): ProxyConfig {
  const config = readConfig(file, flags)
  checkTlsFiles(config.brokerMode)
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
  // stats and admin.token: until the schema has them (ops-sections.ts)
  const sections = takeOpsSections(parseYamlSubset(text, path), path)
  return putOpsSections(resolveConfig({ source: path, file: sections.rest, flags }), sections)
}
