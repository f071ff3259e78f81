// kafkajs's own PLAIN and SCRAM mechanisms with the SaslAuthenticate error kept. kafkajs decodes a
// SaslAuthenticate response with a non-zero error code into a KafkaJSProtocolError ({ type, code }:
// 'SASL_AUTHENTICATION_FAILED', 58 for code 58), but its mechanisms then throw a
// KafkaJSSASLAuthenticationError that keeps only the message. Passing kafkajs's built-in provider
// as a custom authenticationProvider (its documented hook) with kafkajs's own saslAuthenticate
// wrapped lets a test see the decoded error; the bytes on the wire are kafkajs's unchanged.
import { createRequire } from 'node:module'
import type { AuthenticationProviderArgs, Authenticator, Mechanism } from 'kafkajs'

export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface SaslAuthenticateError extends Error {
  readonly type?: string
  readonly code?: number
}

type BuiltinProvider = (sasl: { username: string, password: string }) => (args: AuthenticationProviderArgs) => Authenticator

const require = createRequire(import.meta.url)
const MODULES: Record<SaslMechanismName, string> = { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram256', 'SCRAM-SHA-512': 'scram512' }

export function observedSasl (mechanism: SaslMechanismName, username: string, password: string): { sasl: Mechanism, errors: SaslAuthenticateError[] } {
  const builtin = require(`kafkajs/src/broker/saslAuthenticator/${MODULES[mechanism]}.js`) as BuiltinProvider
  const errors: SaslAuthenticateError[] = []
  const authenticationProvider = (args: AuthenticationProviderArgs): Authenticator => builtin({ username, password })({
    ...args,
    saslAuthenticate: async request => {
      try {
        return await args.saslAuthenticate(request)
      } catch (err) {
        errors.push(err as SaslAuthenticateError)
        throw err
      }
    }
  })
  return { sasl: { mechanism, authenticationProvider }, errors }
}
