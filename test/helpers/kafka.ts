// Real Kafka for tests. `await kafkaCluster(t, { brokers: 3, tls: true })` starts a sandbox
// cluster and stops it (JVMs and directories) when the test ends, pass or fail. If the test
// process dies, the sandbox's reaper cleans up.
import { execFile, spawnSync } from 'node:child_process'
import { startCluster } from '@kproxy/cli/sandbox/cluster'
import type { Cluster, SandboxInfo, StartClusterOptions } from '@kproxy/cli/sandbox/cluster'
import { jvmProfile, toolJvmArgs } from '@kproxy/cli/sandbox/jvm-profile'

export type { Cluster, SandboxInfo, StartClusterOptions }

// What is needed from a tap test: tap's `t` fits.
export interface TeardownHost {
  teardown (fn: () => unknown): void
  comment? (...message: unknown[]): void
}

export async function kafkaCluster (t: TeardownHost, options: StartClusterOptions = {}): Promise<Cluster> {
  const started = Date.now()
  const cluster = await startCluster(options)
  t.teardown(() => cluster.stop())
  t.comment?.(`Kafka sandbox (${cluster.info.brokers.length} broker(s)${options.tls === true ? ', TLS' : ''}) ready in ${Date.now() - started} ms at ${cluster.bootstrap}`)
  return cluster
}

// Flags for the Java clients a test starts itself, as the sandbox gives Kafka's tools: C1 only and
// the serial collector when the suite runs with KPROXY_SANDBOX_JVM=lean (scripts/test.ts).
export const TEST_JVM_ARGS: readonly string[] = toolJvmArgs(jvmProfile(process.env))

export interface ProcessResult {
  code: number | null
  stdout: string
  stderr: string
}

// kcat (librdkafka), a client independent of both Kafka's Java code and ours.
export function kcat (args: readonly string[], options: { input?: string, timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('kcat is not installed; install it with `apt-get install -y kcat`.'))
        return
      }
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
    child.stdin?.end(options.input ?? '')
  })
}

export function hasKcat (): boolean {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0
}

// librdkafka settings for the sandbox's TLS listener with the sandbox's client certificate.
export function kcatTlsArgs (info: SandboxInfo, withClientCert = true): string[] {
  if (info.tls === undefined) throw new Error('this sandbox was started without tls')
  const args = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${info.tls.ca}`]
  if (withClientCert) {
    args.push('-X', `ssl.certificate.location=${info.tls.clientCert}`, '-X', `ssl.key.location=${info.tls.clientKey}`)
  }
  return args
}

// Broker ids from `kcat -L` output ("  broker 2 at 127.0.0.1:40123 (controller)").
export function kcatBrokers (stdout: string): Array<{ id: number, host: string, port: number }> {
  const brokers = [...stdout.matchAll(/^\s*broker (-?\d+) at ([^\s:]+):(\d+)/gm)]
    .map(m => ({ id: Number(m[1]), host: m[2]!, port: Number(m[3]) }))
  return brokers.sort((a, b) => a.id - b.id)
}

// Pids of live java processes whose command line mentions `text` (e.g. a sandbox's data dir).
export function javaPidsMentioning (text: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
  return ps.stdout.split('\n')
    .map(line => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && /(^|\/)java\s/.test(m[2]!) && m[2]!.includes(text))
    .map(m => Number(m[1]))
}

// A JVM frozen with SIGSTOP keeps its connections open and answers nothing (a hung broker).
// freeze() stops the processes, resume() continues them (once; later calls do nothing); the
// caller registers resume as a teardown so that a failed test never leaves a cluster stopped.
export function freezer (pids: readonly number[]): { freeze (): void, resume (): void } {
  let frozen = false
  return {
    freeze () {
      frozen = true
      for (const pid of pids) process.kill(pid, 'SIGSTOP')
    },
    resume () {
      if (!frozen) return
      frozen = false
      for (const pid of pids) { try { process.kill(pid, 'SIGCONT') } catch {} }
    }
  }
}
