// Runs `work` with SIGINT and SIGTERM ending the process through process.exit(130), so that the
// 'exit' hooks kill what the run started (proxies, the Kafka JVMs; the sandbox's reaper
// double-checks). The handlers are removed when `work` settles.
export async function exitOnSignal<T> (what: string, work: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals): void => { process.stderr.write(`${what}: ${signal}; stopping\n`); process.exit(130) }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work()
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
