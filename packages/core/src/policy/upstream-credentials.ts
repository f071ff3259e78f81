// kproxy's own SASL login to the brokers (policy.sasl.upstream in broker mode,
// mesh.clusters[].sasl in mesh mode): the password comes from a file
// (one trailing newline dropped) or an environment variable, read when a connection is made so
// that a rotated password is picked up without a restart. It is never logged or dumped.
import { readFileSync } from 'node:fs'
import { KproxyError } from '../kproxy-error.ts'
import type { SaslClientCredentials } from '../sasl/sasl-client.ts'
import type { UpstreamSaslConfig } from './policy-config.ts'

// `configKey`: where the config says it, for the error messages.
export function upstreamCredentials (config: UpstreamSaslConfig, env: NodeJS.ProcessEnv = process.env, configKey = 'policy.sasl.upstream'): SaslClientCredentials {
  let password: string | undefined
  if (config.passwordFile !== null) {
    try {
      password = readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new KproxyError('KPROXY_ERR_UPSTREAM_PASSWORD', `Cannot read the upstream SASL password file ${config.passwordFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check ${configKey}.passwordFile.`)
    }
  } else if (config.passwordEnv !== null) {
    password = env[config.passwordEnv]
  }
  if (password === undefined || password === '') {
    const where = config.passwordFile !== null ? `the file ${config.passwordFile}` : `the environment variable ${config.passwordEnv ?? '(none)'}`
    throw new KproxyError('KPROXY_ERR_UPSTREAM_PASSWORD', `The upstream SASL password (${where}) is empty or unset; set it to the password of '${config.username}' on the brokers (${configKey}).`)
  }
  return { username: config.username, password }
}
