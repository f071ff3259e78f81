import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { archivePath, baseArchiveUsable, useArchiveArgs } from './class-data.ts'
import { ensureKafkaJars, kafkaHome, kproxyCacheDir } from './jars.ts'
import { findJava } from './java.ts'
import { TOOLS_LOG4J } from './node-config.ts'
import { jvmProfile, toolJvmArgs } from './jvm-profile.ts'
import type { JvmProfile } from './jvm-profile.ts'

export interface KafkaToolOptions {
  timeoutMs?: number
  input?: string | Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
  // Extra JVM flags (before the main class), e.g. ['-Xmx1g'].
  jvmArgs?: readonly string[]
}

export interface KafkaToolResult {
  // null when the JVM was ended by a signal (timeout included).
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
  stdout: string
  stderr: string
  durationMs: number
}

export interface JavaContext {
  java: string
  classpath: string
  libDir: string
  log4jFile: string
  // A class-data sharing archive for this JVM and classpath, used when it exists.
  archive: string | null
  // KPROXY_SANDBOX_JVM (jvm-profile.ts)
  profile: JvmProfile
}

const DEFAULT_TIMEOUT_MS = 120_000

// Runs a Java main class of the pinned Kafka on its classpath and collects its output.
export function runJavaMain (ctx: JavaContext, mainClass: string, args: readonly string[], options: KafkaToolOptions = {}): Promise<KafkaToolResult> {
  const started = Date.now()
  const jvmArgs = [...useArchiveArgs(ctx.archive), ...toolJvmArgs(ctx.profile), ...(options.jvmArgs ?? []), `-Dlog4j2.configurationFile=${ctx.log4jFile}`, '-cp', ctx.classpath, mainClass, ...args]
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.java, jvmArgs, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    child.stdout.on('data', (c: Buffer) => stdout.push(c))
    child.stderr.on('data', (c: Buffer) => stderr.push(c))
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
    child.on('error', err => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Date.now() - started
      })
    })
  })
}

// KPROXY_SANDBOX_CDS=0 turns class-data sharing off (to compare, or to rule it out).
export function classDataSharingEnabled (env: NodeJS.ProcessEnv): boolean {
  return env.KPROXY_SANDBOX_CDS !== '0'
}

// A quiet log4j2 configuration for tools, kept beside the cached jars.
export async function toolsLog4jFile (cacheDir: string): Promise<string> {
  const home = kafkaHome(cacheDir)
  const file = join(home, 'tools-log4j2.properties')
  const current = await readFile(file, 'utf8').catch(() => null)
  if (current !== TOOLS_LOG4J) {
    await mkdir(home, { recursive: true })
    await writeFile(file, TOOLS_LOG4J)
  }
  return file
}

export async function javaContext (options: { env?: NodeJS.ProcessEnv, cacheDir?: string, log?: (message: string) => void } = {}): Promise<JavaContext> {
  const env = options.env ?? process.env
  const profile = jvmProfile(env)
  const cacheDir = options.cacheDir ?? kproxyCacheDir(env)
  const java = await findJava(env)
  const jars = await ensureKafkaJars({ env, cacheDir, log: options.log })
  let archive = classDataSharingEnabled(env) ? archivePath(cacheDir, java.version, java.command, jars.jars) : null
  if (archive !== null && !existsSync(archive) && !(await baseArchiveUsable(java.command, env))) archive = null
  return { java: java.command, classpath: jars.classpath, libDir: jars.libDir, log4jFile: await toolsLog4jFile(cacheDir), archive, profile }
}

// Any Kafka command-line tool, without a cluster of its own; e.g.
// runKafkaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', b, '--list']).
export async function runKafkaTool (mainClass: string, args: readonly string[], options: KafkaToolOptions & { cacheDir?: string } = {}): Promise<KafkaToolResult> {
  const ctx = await javaContext({ env: options.env, cacheDir: options.cacheDir })
  return await runJavaMain(ctx, mainClass, args, options)
}
