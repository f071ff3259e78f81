import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { KproxyError } from '@kproxy/core/kproxy-error'

export interface JavaRuntime {
  // Absolute path or bare 'java' (resolved on PATH by spawn).
  command: string
  major: number
  version: string
}

export const MIN_JAVA_MAJOR = 17

const INSTALL_HINT = 'install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME'

// Like Kafka's own scripts: JAVA_HOME wins when set, otherwise `java` from PATH.
export function javaCommand (env: NodeJS.ProcessEnv = process.env): string {
  const home = env.JAVA_HOME
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java'
}

// `java -version` prints to stderr, e.g. `openjdk version "17.0.15" 2025-04-15` or, before
// Java 9, `java version "1.8.0_392"`.
export function parseJavaVersion (output: string): { major: number, version: string } | null {
  const m = /version "([^"]+)"/.exec(output)
  if (m === null) return null
  const version = m[1]!
  const parts = version.split(/[.+_-]/)
  const first = Number(parts[0])
  const major = first === 1 ? Number(parts[1]) : first
  return Number.isInteger(major) ? { major, version } : null
}

export async function findJava (env: NodeJS.ProcessEnv = process.env): Promise<JavaRuntime> {
  const command = javaCommand(env)
  const output = await new Promise<string>((resolve, reject) => {
    execFile(command, ['-version'], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new KproxyError('KPROXY_ERR_JAVA_MISSING', `No Java runtime found (${command}); ${INSTALL_HINT}.`))
      } else if (err !== null) {
        reject(new KproxyError('KPROXY_ERR_JAVA_MISSING', `\`${command} -version\` failed (${err.message.split('\n')[0]}); ${INSTALL_HINT}.`))
      } else {
        resolve(stderr + stdout)
      }
    })
  })
  const parsed = parseJavaVersion(output)
  if (parsed === null) {
    throw new KproxyError('KPROXY_ERR_JAVA_MISSING', `Could not read the Java version from \`${command} -version\`; ${INSTALL_HINT}.`)
  }
  if (parsed.major < MIN_JAVA_MAJOR) {
    throw new KproxyError('KPROXY_ERR_JAVA_MISSING', `Kafka needs Java ${MIN_JAVA_MAJOR}+ but ${command} is Java ${parsed.version}; ${INSTALL_HINT}.`)
  }
  return { command, ...parsed }
}
