import t from 'tap'
import { ANONYMOUS, principalName, userPrincipal } from '../../src/policy/principal.ts'

t.test('principals', async t => {
  t.equal(userPrincipal('alice'), 'User:alice')
  t.equal(principalName('User:alice'), 'alice')
  t.equal(principalName('User:CN=a:b'), 'CN=a:b')
  t.equal(principalName('bare'), 'bare')
  t.equal(principalName(ANONYMOUS), 'ANONYMOUS')
})
