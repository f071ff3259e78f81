// Start-up check of every TLS file a configuration names, on the main thread before any worker
// starts: a missing file, a non-PEM file or a key that is not the certificate's gives one
// clear error (KPROXY_ERR_TLS_FILE) and a non-zero exit instead of workers failing one by one.
import type { SecureContextOptions } from 'node:tls'
import type { BrokerModeConfig } from '@kproxy/core/config/proxy-config'
import { readPem, secureContextFrom } from './tls-files.ts'
import type { PemFile } from './tls-files.ts'

export function checkTlsFiles (config: BrokerModeConfig): void {
  const down = config.tls
  if (down !== null) {
    const files: PemFile[] = [
      { setting: 'brokerMode.tls.cert', path: down.cert },
      { setting: 'brokerMode.tls.key', path: down.key }
    ]
    const options: SecureContextOptions = { cert: readPem(files[0]!), key: readPem(files[1]!) }
    if (down.ca !== null) {
      const ca: PemFile = { setting: 'brokerMode.tls.ca', path: down.ca }
      files.push(ca)
      options.ca = readPem(ca)
    }
    secureContextFrom(options, files)
  }
  const up = config.upstreamTls
  if (up !== null) {
    const files: PemFile[] = []
    const options: SecureContextOptions = {}
    if (up.ca !== null) {
      files.push({ setting: 'brokerMode.upstreamTls.ca', path: up.ca })
      options.ca = readPem(files[files.length - 1]!)
    }
    if (up.cert !== null && up.key !== null) {
      files.push({ setting: 'brokerMode.upstreamTls.cert', path: up.cert }, { setting: 'brokerMode.upstreamTls.key', path: up.key })
      options.cert = readPem(files[files.length - 2]!)
      options.key = readPem(files[files.length - 1]!)
    }
    secureContextFrom(options, files)
  }
}
