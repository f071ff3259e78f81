import t from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findJava, javaCommand, parseJavaVersion } from '../../src/sandbox/java.ts'

t.test('parses the version line of old and new JVMs', async t => {
  t.same(parseJavaVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime'), { major: 17, version: '17.0.15' })
  t.same(parseJavaVersion('java version "1.8.0_392"'), { major: 8, version: '1.8.0_392' })
  t.same(parseJavaVersion('openjdk version "21" 2023-09-19'), { major: 21, version: '21' })
  t.same(parseJavaVersion('openjdk version "23-ea" 2024-09-17'), { major: 23, version: '23-ea' })
  t.equal(parseJavaVersion('no version here'), null)
})

t.test('JAVA_HOME wins over PATH', async t => {
  t.equal(javaCommand({ JAVA_HOME: '/opt/jdk' }), '/opt/jdk/bin/java')
  t.equal(javaCommand({ JAVA_HOME: '' }), 'java')
  t.equal(javaCommand({}), 'java')
})

t.test('the machine Java is 17+', async t => {
  const java = await findJava()
  t.ok(java.major >= 17, `Java ${java.version}`)
})

const scratch = mkdtempSync(join(tmpdir(), 'kproxy-java-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

t.test('missing Java is KPROXY_ERR_JAVA_MISSING with an install hint', async t => {
  const empty = join(scratch, 'empty')
  mkdirSync(empty)
  await t.rejects(findJava({ PATH: empty }), { code: 'KPROXY_ERR_JAVA_MISSING', message: /openjdk-17-jre-headless/ })
  await t.rejects(findJava({ PATH: process.env.PATH, JAVA_HOME: join(scratch, 'nowhere') }), { code: 'KPROXY_ERR_JAVA_MISSING', message: /nowhere\/bin\/java/ })
})

t.test('an old or broken Java is KPROXY_ERR_JAVA_MISSING', async t => {
  const home = join(scratch, 'jdk11')
  mkdirSync(join(home, 'bin'), { recursive: true })
  writeFileSync(join(home, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
  chmodSync(join(home, 'bin', 'java'), 0o755)
  await t.rejects(findJava({ JAVA_HOME: home }), { code: 'KPROXY_ERR_JAVA_MISSING', message: /Java 11\.0\.2/ })

  const broken = join(scratch, 'broken')
  mkdirSync(join(broken, 'bin'), { recursive: true })
  writeFileSync(join(broken, 'bin', 'java'), '#!/bin/sh\nexit 3\n')
  chmodSync(join(broken, 'bin', 'java'), 0o755)
  await t.rejects(findJava({ JAVA_HOME: broken }), { code: 'KPROXY_ERR_JAVA_MISSING' })
})

t.test('startCluster refuses to start without Java, before touching anything', async t => {
  const { startCluster } = await import('../../src/sandbox/cluster.ts')
  const empty = join(scratch, 'empty2')
  mkdirSync(empty)
  await t.rejects(startCluster({ env: { PATH: empty, HOME: process.env.HOME } }), { code: 'KPROXY_ERR_JAVA_MISSING' })
})
