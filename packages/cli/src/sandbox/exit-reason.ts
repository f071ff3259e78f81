// Why a child of the sandbox died, in one line for the user: how it ended (signal or exit code)
// and the last line of its output that reads like an error.
import type { ExitStatus } from './detached-child.ts'

// The JVM itself gave up: these name the cause even when Kafka logged other errors before.
const JVM_FATAL = /Terminating due to java\.lang\.OutOfMemoryError|java\.lang\.OutOfMemoryError|A fatal error has been detected by the Java Runtime|Exception in thread "main"/
// Kafka's log4j layout is `[date] LEVEL message (logger)`.
const LOG_ERROR = /^\[[^\]]+\] (ERROR|FATAL) /

export function describeExit (status: ExitStatus | null): string {
  if (status === null) return 'exited'
  if (status.signal !== null) return `was killed by ${status.signal}`
  return `exited with code ${String(status.code)}`
}

// `log`: Kafka's own log since the JVM started; `out`: the JVM's stdout and stderr since then.
export function lastErrorLine (log: string, out: string): string | null {
  const outLines = meaningful(out)
  const fatal = outLines.findLast(l => JVM_FATAL.test(l))
  if (fatal !== undefined) return fatal
  // An ERROR line is often only "Exiting Kafka due to fatal exception"; the exception's own
  // message follows on the next line.
  const logLines = meaningful(log)
  const at = logLines.findLastIndex(l => LOG_ERROR.test(l))
  if (at >= 0) {
    const next = logLines[at + 1]
    return next !== undefined && !next.startsWith('[') ? `${logLines[at]!}: ${next.trim()}` : logLines[at]!
  }
  return outLines.findLast(l => /error|exception/i.test(l)) ?? null
}

// Stack frames and blank lines never explain anything on their own.
function meaningful (text: string): string[] {
  return text.split('\n').map(l => l.trimEnd()).filter(l => l.trim() !== '' && !/^\s+at |^\s*\.\.\. \d+ (more|common frames omitted)/.test(l))
}
