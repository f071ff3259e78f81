import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createCa, issueCertificate } from '../../src/certs/x509.ts'
import { identityFromX509, mapPrincipal, parsePrincipalRules, parseSubjectAltName, rfc2253Subject } from '../../src/tls/principal-mapping.ts'
import type { CertIdentity } from '../../src/tls/principal-mapping.ts'
import { isKproxyError } from '../../src/kproxy-error.ts'

const alice: CertIdentity = {
  subject: 'CN=alice,OU=eng,O=acme,C=DE',
  sans: ['DNS:alice.local', 'URI:spiffe://example.org/ns/prod/sa/alice', 'email:alice@acme.example']
}

t.test('Kafka RULE: whole-DN match, $n replacement, L and U', async t => {
  const map = (...rules: string[]): string => mapPrincipal(parsePrincipalRules(rules), alice)
  t.equal(map('RULE:^CN=(.*?),OU=(.*?),O=(.*?),C=(.*?)$/$1@$3/'), 'alice@acme')
  t.equal(map('RULE:^CN=(.*?),OU=(.*?),O=(.*?),C=(.*?)$/$1@$4/U'), 'ALICE@DE')
  t.equal(map('RULE:^CN=(.*?),.*$/User-$1/L'), 'user-alice')
  t.equal(map('RULE:CN=alice/bob/'), 'CN=alice,OU=eng,O=acme,C=DE', 'a partial match is no match (Matcher.matches)')
  t.equal(map('RULE:^CN=(.*?),OU=ops,.*$/$1/', 'RULE:^CN=(.*?),OU=eng,.*$/eng-$1/'), 'eng-alice', 'first match wins, in order')
  t.equal(map('DEFAULT', 'RULE:^CN=(.*?),.*$/$1/'), 'CN=alice,OU=eng,O=acme,C=DE', 'DEFAULT stops the search')
  t.equal(map(), 'CN=alice,OU=eng,O=acme,C=DE', 'no rules: the full DN')
  t.equal(map('RULE:^CN=bob,.*$/bob/'), 'CN=alice,OU=eng,O=acme,C=DE', 'no match: the full DN')
  t.equal(map('RULE:^CN=(x)?alice,.*$/$1/', 'RULE:^CN=(.*?),.*$/second-$1/'), 'second-alice', 'an empty result is no match')
  t.equal(map('RULE:^CN=(.*?),.*$/\\$1-\\\\-$1/'), '$1-\\-alice', 'backslash escapes in the replacement, as in Java')
})

t.test('escaped slashes in regex and replacement', async t => {
  const id: CertIdentity = { subject: 'CN=team/payments,O=acme', sans: [] }
  t.equal(mapPrincipal(parsePrincipalRules(['RULE:^CN=team\\/(.*?),O=acme$/svc\\/$1/']), id), 'svc/payments')
})

t.test('SAN: rules look at each SAN entry in order', async t => {
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^URI:spiffe://([^/]+)/(.*)$/$2/']), alice), 'ns/prod/sa/alice', 'the brief\'s spiffe example: unescaped / inside a [^/] class')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^URI:spiffe:\\/\\/example\\.org\\/ns\\/([^\\/]+)\\/sa\\/(.*)$/$2.$1/']), alice), 'alice.prod')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^email:(.*)@acme\\.example$/$1/U']), alice), 'ALICE')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^DNS:(.*)$/$1/', 'SAN:^URI:(.*)$/$1/']), alice), 'alice.local', 'rule order before SAN order')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^URI:(.*)$/$1/', 'SAN:^DNS:(.*)$/$1/']), alice), 'spiffe://example.org/ns/prod/sa/alice')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^DNS:(.*)$/$1/']), { subject: 'CN=x', sans: [] }), 'CN=x', 'no SANs: falls through to the DN')
  t.equal(mapPrincipal(parsePrincipalRules(['SAN:^IP:(.*)$/$1/', 'RULE:^CN=(.*?),.*$/$1/']), alice), 'alice', 'mixed kinds')
})

t.test('bad rules are KPROXY_ERR_PRINCIPAL_RULE naming the rule and the syntax', async t => {
  for (const bad of ['RULE:^CN=(.*)$/$1', 'RULE:^CN=(.*)$', 'RULE:(/x/', 'RULE:^CN=(.*)$/$1/X', 'RULE:^CN=(.*)$/$2/', 'CN=(.*)', 'RULE:/x/', 'RULE:a/b/,RULE:c/d/', 'SAN:^URI:(.*/$1/']) {
    let err: unknown
    try { parsePrincipalRules([bad]) } catch (e) { err = e }
    t.ok(isKproxyError(err, 'KPROXY_ERR_PRINCIPAL_RULE'), bad)
    t.match((err as Error).message, bad, 'names the rule')
    t.match((err as Error).message, /RULE:<regex>\/<replacement>\//, 'states the syntax')
  }
  t.same(parsePrincipalRules([' DEFAULT ', 'RULE:x/y/L']).map(r => r.kind), ['default', 'dn'], 'surrounding spaces are ignored')
})

t.test('subjects convert to RFC 2253 order with node\'s escaping kept', async t => {
  t.equal(rfc2253Subject('C=US\nO=acme\nOU=eng + UID=u1\nCN=alice'), 'CN=alice,OU=eng+UID=u1,O=acme,C=US')
  t.equal(rfc2253Subject('CN=only'), 'CN=only')
  t.equal(rfc2253Subject(''), '')
  t.same(parseSubjectAltName('DNS:a, IP Address:1.2.3.4, URI:spiffe://td/x, email:a@b, IP Address:0:0:0:0:0:0:0:1'),
    ['DNS:a', 'IP:1.2.3.4', 'URI:spiffe://td/x', 'email:a@b', 'IP:0:0:0:0:0:0:0:1'])
  t.same(parseSubjectAltName('URI:"http://x/a,b", DNS:c'), ['URI:http://x/a,b', 'DNS:c'], 'JSON-quoted values (node >= 17)')
  t.same(parseSubjectAltName(undefined), [])
})

t.test('identityFromX509 on real certificates', async t => {
  const ca = await createCa()
  const leaf = await issueCertificate(ca, {
    name: ' #a+b"c\\d<e>f;g=h, ',
    client: true,
    subject: [{ name: 'C', value: 'DE' }, { name: 'organizationName', value: 'acme, inc' }, { name: 'OU', value: 'eng' }],
    sans: ['URI:spiffe://example.org/ns/prod/sa/alice', 'DNS:alice.local', 'IP:127.0.0.1']
  })
  const id = identityFromX509(new X509Certificate(leaf.cert))
  // What Java's X500Principal.getName() gives for this subject: RFC 2253 escapes of , + " \ < > ;
  // and of a leading '#' or space and a trailing space.
  t.equal(id.subject, 'CN=\\ #a\\+b\\"c\\\\d\\<e\\>f\\;g=h\\,\\ ,OU=eng,O=acme\\, inc,C=DE')
  t.same(id.sans, ['URI:spiffe://example.org/ns/prod/sa/alice', 'DNS:alice.local', 'IP:127.0.0.1'])
  t.equal(mapPrincipal(parsePrincipalRules(['RULE:^CN=.*,OU=(.*?),O=(.*?),C=DE$/$1 at $2/']), id), 'eng at acme\\, inc')
  const plain = identityFromX509(new X509Certificate((await issueCertificate(ca, { name: 'bob', client: true })).cert))
  t.same(plain, { subject: 'CN=bob', sans: [] })
})

t.test('a multi-valued RDN from a certificate made by openssl', { skip: !hasOpenSslFixture() && 'no fixture' }, async t => {
  const id = identityFromX509(new X509Certificate(readFileSync(new URL('./fixtures/multi-valued-rdn.pem', import.meta.url))))
  t.equal(id.subject, 'CN=alice,OU=eng+UID=u1,O=acme,C=US')
})

function hasOpenSslFixture (): boolean {
  try { readFileSync(new URL('./fixtures/multi-valued-rdn.pem', import.meta.url)); return true } catch { return false }
}
