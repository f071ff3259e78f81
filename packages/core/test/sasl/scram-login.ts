// A whole SCRAM exchange in memory: kproxy's own client against its own server over a set of
// credentials, for tests of what a credentials file lets in. Returns the client's last state
// ('complete' when the login worked), or 'refused' when the server refused it.
import { ScramClient } from '../../src/sasl/scram-client.ts'
import { ScramServer } from '../../src/sasl/scram-server.ts'
import type { SaslCredentials } from '../../src/sasl/sasl-credentials.ts'
import type { ScramMechanismName } from '../../src/sasl/sasl-mechanism.ts'

export async function scramLogin (credentials: SaslCredentials, username: string, password: string, mechanism: ScramMechanismName = 'SCRAM-SHA-512'): Promise<string> {
  const server = new ScramServer(mechanism, credentials)
  const client = new ScramClient(mechanism, { username, password })
  let out = await client.start()
  while (out.kind === 'send') {
    const step = await server.evaluate(out.token)
    if (step.kind === 'failed') return 'refused'
    out = await client.evaluate(step.token)
  }
  return out.kind
}
