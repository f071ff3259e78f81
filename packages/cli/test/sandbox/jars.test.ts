import t from 'tap'
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BRIDGE_KAFKA_VERSION, KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { BRIDGE_KAFKA_ARTIFACTS, KAFKA_ARTIFACTS, ensureKafkaJars, kafkaHome, kafkaPom, kproxyCacheDir, readLock, verifyJarDir } from '../../src/sandbox/jars.ts'
import type { KafkaLock } from '../../src/sandbox/jars.ts'

const lock = readLock()
const scratch = mkdtempSync(join(tmpdir(), 'kproxy-jars-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

// The real cache (fetched here if this machine has none yet).
const real = await ensureKafkaJars({ log: m => t.comment(m) })

// A private cache holding a copy of the verified jars, optionally without the marker.
function copyCache (name: string): { cacheDir: string, libDir: string, home: string } {
  const cacheDir = join(scratch, name)
  const home = kafkaHome(cacheDir)
  mkdirSync(home, { recursive: true })
  cpSync(real.libDir, join(home, 'lib'), { recursive: true })
  return { cacheDir, libDir: join(home, 'lib'), home }
}

function leftovers (home: string): string[] {
  return existsSync(home) ? readdirSync(home).filter(n => n.startsWith('lib')) : []
}

t.test('the lock pins every jar of the pinned release', async t => {
  t.equal(lock.kafkaVersion, KAFKA_VERSION)
  t.same(lock.artifacts, KAFKA_ARTIFACTS)
  const names = Object.keys(lock.jars)
  t.equal(names.length, 92)
  t.ok(names.every(n => n.endsWith('.jar')))
  t.ok(Object.values(lock.jars).every(h => /^[0-9a-f]{64}$/.test(h)))
  for (const required of [`kafka_2.13-${KAFKA_VERSION}.jar`, `kafka-tools-${KAFKA_VERSION}.jar`, `kafka-clients-${KAFKA_VERSION}.jar`, 'log4j-slf4j-impl-2.25.4.jar', 'log4j-core-2.25.4.jar']) {
    t.ok(names.includes(required), required)
  }
})

t.test('the bridge lock pins kafka-clients of the last 3.x release and its dependencies', async t => {
  const bridge = readLock(BRIDGE_KAFKA_VERSION)
  t.equal(bridge.kafkaVersion, BRIDGE_KAFKA_VERSION)
  t.same(bridge.artifacts, BRIDGE_KAFKA_ARTIFACTS)
  const names = Object.keys(bridge.jars).sort()
  t.equal(names[0], `kafka-clients-${BRIDGE_KAFKA_VERSION}.jar`)
  t.ok(names.some(n => n.startsWith('lz4-java-')) && names.some(n => n.startsWith('snappy-java-')) && names.some(n => n.startsWith('zstd-jni-')))
  t.ok(Object.values(bridge.jars).every(h => /^[0-9a-f]{64}$/.test(h)))
  const jars = await ensureKafkaJars({ lock: bridge, log: m => t.comment(m) })
  t.equal(jars.jars.length, names.length)
  t.match(jars.libDir, new RegExp(`kafka/${BRIDGE_KAFKA_VERSION.replace(/\./g, '\\.')}/lib$`))
})

t.test('the generated pom names the artifacts and no repository', async t => {
  const pom = kafkaPom()
  t.match(pom, /<artifactId>kafka_2\.13<\/artifactId><version>4\.3\.1<\/version>/)
  t.match(pom, /<artifactId>kafka-tools<\/artifactId>/)
  t.match(pom, /<artifactId>log4j-slf4j-impl<\/artifactId><version>2\.25\.4<\/version>/)
  t.notMatch(pom, /https?:|<repositor/)
})

t.test('cache location honours KPROXY_CACHE', async t => {
  t.equal(kproxyCacheDir({ KPROXY_CACHE: '/x/y' }), '/x/y')
  t.match(kproxyCacheDir({}), /\.cache\/kproxy$/)
  t.equal(real.jars.length, 92)
  t.equal(real.classpath.split(':').length, 92)
  await verifyJarDir(real.libDir, lock)
})

t.test('an unmarked but correct directory is verified and adopted', async t => {
  const c = copyCache('adopt')
  const jars = await ensureKafkaJars({ cacheDir: c.cacheDir, fetch: false })
  t.equal(jars.libDir, c.libDir)
  t.ok(jars.jars.every(j => j.startsWith(c.libDir + '/')))
  t.ok(existsSync(join(c.home, 'lib.verified')), 'completeness marker written')
  // With the marker, a changed set of names is still noticed.
  writeFileSync(join(c.libDir, 'intruder.jar'), 'x')
  await t.rejects(ensureKafkaJars({ cacheDir: c.cacheDir, fetch: false }), { code: 'KPROXY_ERR_KAFKA_CHECKSUM', message: /unexpected intruder\.jar/ })
  t.notOk(existsSync(join(c.home, 'lib.verified')), 'marker withdrawn')
})

t.test('a tampered jar is a checksum error naming it; nothing is marked complete', async t => {
  const c = copyCache('tampered')
  appendFileSync(join(c.libDir, `kafka-clients-${KAFKA_VERSION}.jar`), 'x')
  await t.rejects(ensureKafkaJars({ cacheDir: c.cacheDir, fetch: false }), { code: 'KPROXY_ERR_KAFKA_CHECKSUM', message: new RegExp(`kafka-clients-${KAFKA_VERSION}\\.jar`) })
  t.notOk(existsSync(join(c.home, 'lib.verified')))
  unlinkSync(join(c.libDir, 'zstd-jni-1.5.6-10.jar'))
  await t.rejects(verifyJarDir(c.libDir, lock), { code: 'KPROXY_ERR_KAFKA_CHECKSUM', message: /missing zstd-jni-1\.5\.6-10\.jar/ })
})

t.test('no jars and no fetching: KPROXY_ERR_KAFKA_MISSING', async t => {
  await t.rejects(ensureKafkaJars({ cacheDir: join(scratch, 'nothing'), fetch: false }), { code: 'KPROXY_ERR_KAFKA_MISSING', message: /kproxy sandbox fetch/ })
})

t.test('a download that does not match the lock is discarded', async t => {
  const cacheDir = join(scratch, 'bad-download')
  const wrong: KafkaLock = { ...lock, jars: { ...lock.jars, [`kafka-clients-${KAFKA_VERSION}.jar`]: '0'.repeat(64) } }
  await t.rejects(ensureKafkaJars({ cacheDir, lock: wrong }), { code: 'KPROXY_ERR_KAFKA_CHECKSUM', message: /kafka-clients/ })
  t.same(leftovers(kafkaHome(cacheDir)), [], 'no lib, no partial directory, no marker')
})

t.test('a broken cached copy is replaced by a verified download', async t => {
  const c = copyCache('heal')
  appendFileSync(join(c.libDir, 'scala-library-2.13.18.jar'), 'x')
  const messages: string[] = []
  const jars = await ensureKafkaJars({ cacheDir: c.cacheDir, log: m => messages.push(m) })
  t.match(messages.join('\n'), /Checksum mismatch for scala-library-2\.13\.18\.jar/)
  await verifyJarDir(jars.libDir, lock)
  t.same(leftovers(c.home).sort(), ['lib', 'lib.verified'])
})

t.test('Maven missing or failing', async t => {
  const bin = join(scratch, 'bin')
  mkdirSync(bin)
  const cacheDir = join(scratch, 'no-maven')
  await t.rejects(ensureKafkaJars({ cacheDir, env: { PATH: bin } }), { code: 'KPROXY_ERR_MAVEN_MISSING', message: /apt-get install maven/ })
  t.same(leftovers(kafkaHome(cacheDir)), [])
  // A stand-in for a Maven that cannot reach its repository.
  writeFileSync(join(bin, 'mvn'), '#!/bin/sh\necho "[ERROR] Failed to execute goal: could not resolve dependencies" \nexit 1\n')
  chmodSync(join(bin, 'mvn'), 0o755)
  await t.rejects(ensureKafkaJars({ cacheDir, env: { PATH: `${bin}:/usr/bin:/bin` } }), { code: 'KPROXY_ERR_KAFKA_DOWNLOAD', message: /could not resolve dependencies/ })
  t.same(leftovers(kafkaHome(cacheDir)), [])
})
