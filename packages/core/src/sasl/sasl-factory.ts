// One entry point per side, by mechanism name.
import { PlainClient } from './plain-client.ts'
import { PlainServer } from './plain-server.ts'
import type { SaslClient, SaslClientCredentials } from './sasl-client.ts'
import type { SaslCredentials } from './sasl-credentials.ts'
import type { SaslMechanismName } from './sasl-mechanism.ts'
import type { SaslServer, SaslServerOptions } from './sasl-server.ts'
import { ScramClient } from './scram-client.ts'
import { ScramServer } from './scram-server.ts'

export function createSaslServer (mechanism: SaslMechanismName, credentials: SaslCredentials, options: SaslServerOptions = {}): SaslServer {
  return mechanism === 'PLAIN' ? new PlainServer(credentials, options) : new ScramServer(mechanism, credentials, options)
}

export function createSaslClient (mechanism: SaslMechanismName, credentials: SaslClientCredentials): SaslClient {
  return mechanism === 'PLAIN' ? new PlainClient(credentials) : new ScramClient(mechanism, credentials)
}
