import t from 'tap'
import { createSaslClient, createSaslServer } from '../../src/sasl/sasl-factory.ts'
import { CredentialSet } from '../../src/policy/credential-set.ts'
import { setPassword } from '../../src/policy/credential-builder.ts'
import type { UserCredentials } from '../../src/policy/credentials-file.ts'
import { SASL_MECHANISMS } from '../../src/sasl/sasl-mechanism.ts'

t.test('each mechanism: a client and a server by name, logging in against one credential set', async t => {
  const entry: UserCredentials = { scram: {} }
  await setPassword(entry, SASL_MECHANISMS, 'pw', { scrypt: { N: 16384, r: 8, p: 1 } })
  const set = new CredentialSet(new Map([['kproxy', entry]]))
  for (const mech of SASL_MECHANISMS) {
    const server = createSaslServer(mech, set)
    const client = createSaslClient(mech, { username: 'kproxy', password: 'pw' })
    t.equal(server.mechanism, mech)
    t.equal(client.mechanism, mech)
    let out = await client.start()
    let user = ''
    while (out.kind === 'send') {
      const step = await server.evaluate(out.token)
      if (step.kind === 'failed') break
      if (step.kind === 'complete') user = step.user
      out = await client.evaluate(step.token)
    }
    t.same([out.kind, user], ['complete', 'kproxy'], mech)
  }
})
