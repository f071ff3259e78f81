import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BRIDGE_KAFKA_VERSION, KAFKA_SCALA_VERSION, KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { KproxyError } from '@kproxy/core/kproxy-error'

// The broker, its controller, StorageTool and the command-line tools (perf tests, console
// clients, topic/group commands) all come from two Maven artifacts. Kafka 4.x POMs carry no
// logging backend, so the slf4j 1.7 binding for log4j2 is added (it pulls log4j-core).
// Kafka 4.4.0 is not usable this way: kafka_2.13:4.4.0 depends on kafka-tools-api:4.4.0, which is
// missing from Maven Central — hence the pin in kafka-release.ts.
export const KAFKA_ARTIFACTS: readonly string[] = [
  `org.apache.kafka:kafka_${KAFKA_SCALA_VERSION}:${KAFKA_VERSION}`,
  `org.apache.kafka:kafka-tools:${KAFKA_VERSION}`,
  'org.apache.logging.log4j:log4j-slf4j-impl:2.25.4'
]

// The last 3.x client library: its message definitions give the codecs the protocol versions
// Kafka 4 dropped (the generator reads them), and its record classes write the old message
// formats for the cross-implementation tests. Its dependencies (lz4-java, snappy-java, zstd-jni,
// slf4j-api) come with it.
export const BRIDGE_KAFKA_ARTIFACTS: readonly string[] = [
  `org.apache.kafka:kafka-clients:${BRIDGE_KAFKA_VERSION}`
]

// Pinned so that every machine resolves with the same plugin; 2.8 is what Maven 3.8 binds by default.
const DEPENDENCY_PLUGIN_VERSION = '2.8'
const MAVEN_TIMEOUT_MS = 15 * 60_000

export interface KafkaLock {
  kafkaVersion: string
  artifacts: string[]
  // jar file name -> sha256 (hex) of its bytes
  jars: Record<string, string>
}

export interface KafkaJars {
  libDir: string
  // Absolute jar paths, sorted by file name.
  jars: string[]
  // ':'-joined jar paths, usable as `java -cp`.
  classpath: string
}

export interface EnsureJarsOptions {
  env?: NodeJS.ProcessEnv
  // Overrides ${KPROXY_CACHE:-~/.cache/kproxy}.
  cacheDir?: string
  lock?: KafkaLock
  // false: only verify what is in the cache, never run Maven.
  fetch?: boolean
  log?: (message: string) => void
}

export function lockFilePath (version: string = KAFKA_VERSION): string {
  return fileURLToPath(new URL(`./kafka-${version}.lock.json`, import.meta.url))
}

export function readLock (version: string = KAFKA_VERSION): KafkaLock {
  return JSON.parse(readFileSync(lockFilePath(version), 'utf8')) as KafkaLock
}

export function kproxyCacheDir (env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.KPROXY_CACHE
  return dir !== undefined && dir !== '' ? dir : join(homedir(), '.cache', 'kproxy')
}

export function kafkaHome (cacheDir: string, version: string = KAFKA_VERSION): string {
  return join(cacheDir, 'kafka', version)
}

// The marker records which lock the directory was verified against, so a new lock re-verifies.
function lockDigest (lock: KafkaLock): string {
  const entries = Object.keys(lock.jars).sort().map(name => `${name} ${lock.jars[name]}\n`)
  return createHash('sha256').update(entries.join('')).digest('hex')
}

export function kafkaPom (artifacts: readonly string[] = KAFKA_ARTIFACTS): string {
  const deps = artifacts.map(coordinate => {
    const [groupId, artifactId, version] = coordinate.split(':')
    return `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kproxy</groupId>
  <artifactId>kafka-sandbox-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps.join('\n')}
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>${DEPENDENCY_PLUGIN_VERSION}</version></plugin>
    </plugins>
  </build>
</project>
`
}

async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function listJars (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(name => name.endsWith('.jar')).sort()
}

// The directory must hold exactly the locked jars, each with its locked checksum.
export async function verifyJarDir (dir: string, lock: KafkaLock): Promise<void> {
  const present = await listJars(dir)
  const expected = Object.keys(lock.jars).sort()
  const missing = expected.filter(name => !present.includes(name))
  const extra = present.filter(name => lock.jars[name] === undefined)
  if (missing.length > 0 || extra.length > 0) {
    const what = [
      missing.length > 0 ? `missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}` : '',
      extra.length > 0 ? `unexpected ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}` : ''
    ].filter(s => s !== '').join('; ')
    throw new KproxyError('KPROXY_ERR_KAFKA_CHECKSUM', `The Kafka ${lock.kafkaVersion} jars in ${dir} do not match the lock file (${what}).`)
  }
  for (const name of expected) {
    const actual = await sha256File(join(dir, name))
    if (actual !== lock.jars[name]) {
      throw new KproxyError('KPROXY_ERR_KAFKA_CHECKSUM', `Checksum mismatch for ${name}: expected sha256 ${lock.jars[name]}, got ${actual}.`)
    }
  }
}

function jarsIn (libDir: string, lock: KafkaLock): KafkaJars {
  const jars = Object.keys(lock.jars).sort().map(name => join(libDir, name))
  return { libDir, jars, classpath: jars.join(':') }
}

async function readText (path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return null
  }
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// Partial directories are named lib.partial-<pid>-XXXXXX; those of dead processes are debris.
async function removeAbandonedPartials (home: string): Promise<void> {
  for (const name of await readdir(home).catch(() => [] as string[])) {
    const m = /^lib\.(?:partial|stale)-(\d+)-/.exec(name)
    if (m !== null && !pidAlive(Number(m[1]))) await rm(join(home, name), { recursive: true, force: true })
  }
}

// Returns the verified jar directory, fetching it with Maven first when it is missing or wrong.
// A directory without the completeness marker (e.g. copied by hand) is verified and adopted.
export async function ensureKafkaJars (options: EnsureJarsOptions = {}): Promise<KafkaJars> {
  const env = options.env ?? process.env
  const lock = options.lock ?? readLock()
  const log = options.log ?? (() => {})
  const home = kafkaHome(options.cacheDir ?? kproxyCacheDir(env), lock.kafkaVersion)
  const libDir = join(home, 'lib')
  const marker = join(home, 'lib.verified')
  const digest = lockDigest(lock)

  if (await readText(marker) === `${digest}\n`) {
    const present = await listJars(libDir).catch(() => [] as string[])
    const expected = Object.keys(lock.jars).sort()
    if (present.length === expected.length && present.every((name, i) => name === expected[i])) return jarsIn(libDir, lock)
  }
  await rm(marker, { force: true })

  let existingError: unknown = null
  try {
    await verifyJarDir(libDir, lock)
    await writeFile(marker, `${digest}\n`)
    return jarsIn(libDir, lock)
  } catch (err) {
    existingError = err
  }
  const exists = (await readdir(libDir).catch(() => null)) !== null
  if (options.fetch === false) {
    if (exists) throw existingError
    throw new KproxyError('KPROXY_ERR_KAFKA_MISSING', `The Kafka ${lock.kafkaVersion} jars are not in ${libDir}; run \`kproxy sandbox fetch\` first.`)
  }
  if (exists) log(`kproxy: ${(existingError as Error).message} Fetching a fresh copy.`)

  await mkdir(home, { recursive: true })
  await removeAbandonedPartials(home)
  const partial = await mkdtemp(join(home, `lib.partial-${process.pid}-`))
  try {
    log(`kproxy: fetching Kafka ${lock.kafkaVersion} jars with Maven into ${home} (once)`)
    await fetchWithMaven(partial, lock.artifacts, env)
    await verifyJarDir(partial, lock)
    if (exists) {
      // Move the bad copy aside first: rename cannot replace a non-empty directory.
      const stale = await mkdtemp(join(home, `lib.stale-${process.pid}-`))
      await rename(libDir, join(stale, 'lib'))
      await rm(stale, { recursive: true, force: true })
    }
    try {
      await rename(partial, libDir)
    } catch (err) {
      // Another process installed it first; keep theirs if it verifies.
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      await verifyJarDir(libDir, lock)
    }
    await writeFile(marker, `${digest}\n`)
    return jarsIn(libDir, lock)
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
}

// Runs `mvn dependency:copy-dependencies` on a generated pom. Maven's own configuration
// (settings.xml, mirrors, proxies) applies; no repository address is written here.
export async function fetchWithMaven (outDir: string, artifacts: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pomDir = await mkdtemp(join(tmpdir(), 'kproxy-pom-'))
  try {
    await writeFile(join(pomDir, 'pom.xml'), kafkaPom(artifacts))
    // -C (strict checksums): a download whose checksum does not match the repository's fails.
    const args = ['-B', '-q', '-C', '-Dstyle.color=never', '-f', join(pomDir, 'pom.xml'),
      'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${outDir}`]
    const { code, output } = await run('mvn', args, env, MAVEN_TIMEOUT_MS)
    if (code !== 0) {
      const lastError = output.split('\n').filter(line => /ERROR/.test(line))[0] ?? output.trim().split('\n').pop() ?? ''
      throw new KproxyError('KPROXY_ERR_KAFKA_DOWNLOAD', `Downloading the Kafka jars with Maven failed (${code}): ${lastError.trim().slice(0, 400)}`)
    }
  } finally {
    await rm(pomDir, { recursive: true, force: true })
  }
}

function run (command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | string, output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    // Our own timer rather than spawn's `timeout`, which is never cleared when the spawn fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    let output = ''
    const collect = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-16_384) }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', err => {
      clearTimeout(timer)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new KproxyError('KPROXY_ERR_MAVEN_MISSING', 'Maven (mvn) is needed once to download the Kafka jars; install it (apt-get install maven) and retry.'))
      } else {
        reject(err)
      }
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? signal ?? 'killed', output })
    })
  })
}

// Maintainer path (`kproxy sandbox lock`): resolve the artifacts afresh and record every jar's checksum.
export async function createLock (options: { env?: NodeJS.ProcessEnv, artifacts?: readonly string[], kafkaVersion?: string } = {}): Promise<KafkaLock> {
  const artifacts = [...(options.artifacts ?? KAFKA_ARTIFACTS)]
  const kafkaVersion = options.kafkaVersion ?? KAFKA_VERSION
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-lock-'))
  try {
    await fetchWithMaven(dir, artifacts, options.env)
    const jars: Record<string, string> = {}
    for (const name of await listJars(dir)) jars[name] = await sha256File(join(dir, name))
    return { kafkaVersion, artifacts, jars }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function writeLock (lock: KafkaLock, path: string = lockFilePath(lock.kafkaVersion)): Promise<string> {
  await writeFile(path, JSON.stringify(lock, null, 2) + '\n')
  return path
}
