// Start-up check of every TLS file a configuration names, on the main thread before any worker
// starts: a missing file, a non-PEM file or a key that is not the certificate's gives one
// clear error (KPROXY_ERR_TLS_FILE) and a non-zero exit instead of workers failing one by one.
import type { BrokerModeConfig } from '@kproxy/core/config/proxy-config'
import { downstreamTlsFiles, readTlsFiles, upstreamTlsFiles } from './tls-files.ts'

// `upstreamAt`: the key of upstreamTls in the file, for the errors (mesh: mesh.clusters[i].tls)
export function checkTlsFiles (config: Pick<BrokerModeConfig, 'tls' | 'upstreamTls'>, upstreamAt?: string): void {
  if (config.tls !== null) readTlsFiles(downstreamTlsFiles(config.tls))
  if (config.upstreamTls !== null) readTlsFiles(upstreamTlsFiles(config.upstreamTls, upstreamAt))
}
