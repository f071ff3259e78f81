// A per-principal upstream certificate as a Kafka broker reads it: the subject through Java's
// X500Principal and Kafka's SslPrincipalMapper with the rule kproxy documents for the brokers.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureKafkaJars } from '@kproxy/cli/sandbox/jars'
import { findJava } from '@kproxy/cli/sandbox/java'
import { TEST_JVM_ARGS } from '../helpers/kafka.ts'
import { createSigningPool } from '@kproxy/cli/certs/signing-pool'
import { createCa } from '@kproxy/core/certs/x509'
import { BROKER_MAPPING_RULE, PrincipalCertificates } from '@kproxy/core/policy/principal-certificates'

const SOURCE = fileURLToPath(new URL('../fixtures/PrincipalMapping.java', import.meta.url))

t.test("Kafka's SslPrincipalMapper gives back the user of a certificate kproxy issued", async t => {
  const java = await findJava()
  const jars = await ensureKafkaJars()
  const ca = await createCa()
  const pool = createSigningPool(ca, 1)
  t.teardown(() => pool.close())
  const certs = new PrincipalCertificates({ sign: o => pool.sign(o), validityMs: 3_600_000, renewBeforeMs: 600_000, maxCached: 10 })
  const dir = t.testdir()
  for (const user of ['alice', 'svc-orders.eu_1@acme', 'Bob Smith']) {
    const cert = await certs.get(`User:${user}`)
    const file = join(dir, 'cert.pem')
    writeFileSync(file, cert.cert)
    const out = await new Promise<string>((resolve, reject) => {
      execFile(java.command, [...TEST_JVM_ARGS, '-cp', jars.classpath, SOURCE, `${BROKER_MAPPING_RULE},DEFAULT`, file], { timeout: 120_000 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
        else resolve(stdout)
      })
    })
    const [dn, mapped] = out.trim().split('\n')
    t.equal(dn, `CN=${user},OU=kproxy-principal,O=kproxy`, 'the DN as the broker prints it')
    t.equal(mapped, user, `the broker's principal for ${user}`)
  }
})
