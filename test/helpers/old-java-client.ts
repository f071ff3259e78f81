// The version bridge's Java clients: test/fixtures/OldKafkaClient.java compiled with javac against
// one kafka-clients version (0.10.2.2, 0.11.0.3 from Maven Central, locked like the broker's jars;
// or the pinned 4.x), each on its own classpath, run as a child process that prints JSON lines.
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KAFKA_VERSION } from '@kproxy/core/kafka-release'
import { ensureKafkaJars, readLock } from '@kproxy/cli/sandbox/jars'
import { TEST_JVM_ARGS } from './kafka.ts'
import type { TeardownHost } from './kafka.ts'

const SOURCE = fileURLToPath(new URL('../fixtures/OldKafkaClient.java', import.meta.url))

export interface JavaRun {
  code: number | null
  // the JSON lines printed (anything else on stdout is ignored)
  lines: Array<Record<string, any>>
  stderr: string
}

export interface OldJavaClient {
  readonly version: string
  run (args: readonly string[], options?: { clientId?: string, timeoutMs?: number }): Promise<JavaRun>
}

function exec (command: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

export async function oldJavaClient (t: TeardownHost, version: string): Promise<OldJavaClient> {
  const jars = version === KAFKA_VERSION ? await ensureKafkaJars() : await ensureKafkaJars({ lock: readLock(version) })
  const classes = await mkdtemp(join(tmpdir(), `kproxy-old-client-${version}-`))
  const compiled = await exec('javac', ['-nowarn', '-d', classes, '-cp', jars.classpath, SOURCE], 120_000)
  if (compiled.code !== 0) throw new Error(`javac against kafka-clients ${version} failed: ${compiled.stderr}`)
  t.comment?.(`OldKafkaClient compiled against kafka-clients ${version}`)
  return {
    version,
    async run (args, options = {}) {
      const r = await exec('java', [...TEST_JVM_ARGS, `-DclientId=${options.clientId ?? `java-${version}`}`, '-cp', `${classes}:${jars.classpath}`, 'OldKafkaClient', ...args], options.timeoutMs ?? 120_000)
      const lines = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, any>)
      return { code: r.code, lines, stderr: r.stderr }
    }
  }
}

// The records OldKafkaClient's producer writes (keep in step with the Java code).
export function expectedRecord (prefix: string, i: number, timestampBase: number): { key: string | null, value: string, timestamp: number } {
  return {
    key: i % 7 === 3 ? null : `k-${prefix}-${i}`,
    value: `v-${prefix}-${i}-${'x'.repeat(i % 50)}`,
    timestamp: timestampBase + i
  }
}
