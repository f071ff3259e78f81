// A long-running Kafka Java tool (VerifiableProducer, VerifiableConsumer) whose JSON lines on
// stdout are read as they come: the tests act on what the client has seen so far (kill a proxy
// once a third of the records are acknowledged).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { javaContext } from '@kproxy/cli/sandbox/kafka-tool'
import { toolJvmArgs } from '@kproxy/cli/sandbox/jvm-profile'

export interface JavaClient {
  child: ChildProcess
  // every stdout line that parsed as JSON, in order
  events: Array<Record<string, unknown>>
  stderr (): string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

// `log4jFile`: a log4j2 configuration instead of the quiet one of Kafka's tools (warnings only).
export async function startJavaClient (mainClass: string, args: readonly string[], options: { log4jFile?: string } = {}): Promise<JavaClient> {
  const ctx = await javaContext()
  const child = spawn(ctx.java, [...toolJvmArgs(ctx.profile), `-Dlog4j2.configurationFile=${options.log4jFile ?? ctx.log4jFile}`, '-Xmx256m', '-cp', ctx.classpath, mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Array<Record<string, unknown>> = []
  let partial = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString()
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl)
      partial = partial.slice(nl + 1)
      try { events.push(JSON.parse(line) as Record<string, unknown>) } catch {}
    }
  })
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-20_000) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, events, stderr: () => stderr, exited }
}
