// Collects a child process's output as kproxy writes it: pino JSON lines on stdout (a line that
// is not JSON is kept as { raw }), free text on stderr.
import type { ChildProcess } from 'node:child_process'

export interface ProcessOutput {
  readonly logs: Array<Record<string, unknown>>
  stderr (): string
}

export function collectOutput (child: ChildProcess): ProcessOutput {
  const logs: Array<Record<string, unknown>> = []
  let partial = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => {
    partial += c.toString()
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl)
      partial = partial.slice(nl + 1)
      try { logs.push(JSON.parse(line) as Record<string, unknown>) } catch { logs.push({ raw: line }) }
    }
  })
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString() })
  return { logs, stderr: () => stderr }
}
