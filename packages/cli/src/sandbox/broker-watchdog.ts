// Keeps a sandbox cluster whole while `kproxy sandbox up` runs: a broker JVM that exits on its
// own (OutOfMemoryError, a crash, kill -9) is reported with the line of its log that explains it
// and started again with the same node id, ports and data directory. Before this, a broker that
// died took a third of the cluster with it and nobody was told.
//
// A node that keeps dying is not restarted forever: after MAX_RESTARTS deaths within
// RESTART_WINDOW_MS the watchdog gives up, and so does it at the first death with restart off
// (`--no-restart`), for scripts that would rather fail than run on a cluster that was repaired.
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { Cluster } from './cluster.ts'
import type { ExitStatus } from './detached-child.ts'
import { describeExit } from './exit-reason.ts'

const MAX_RESTARTS = 5
const RESTART_WINDOW_MS = 10 * 60_000
// A node whose restart failed is tried again after this.
const RETRY_DELAY_MS = 2_000

export interface WatchdogOptions {
  // Restart a dead node (true) or give up at once (false, `--no-restart`).
  restart: boolean
  // One line per event, for the user (the CLI writes them to stderr).
  log: (message: string) => void
  // Called once when the watchdog gives up; the CLI stops the sandbox and exits non-zero.
  onGiveUp: (err: KproxyError) => void
  // Names the cluster in messages when a topology has several ('cluster b').
  name?: string
}

export interface Watchdog {
  stop (): void
}

type NodeState = 'running' | 'restarting'

export function watchBrokers (cluster: Cluster, options: WatchdogOptions): Watchdog {
  const state = new Map<number, NodeState>(cluster.nodeIds.map(id => [id, 'running']))
  const deaths = new Map<number, number[]>()
  let stopped = false
  let gaveUp = false
  const where = options.name === undefined ? '' : ` of ${options.name}`

  const giveUp = (err: KproxyError): void => {
    if (gaveUp || stopped) return
    gaveUp = true
    options.onGiveUp(err)
  }

  const restart = async (id: number): Promise<void> => {
    for (;;) {
      if (stopped || gaveUp) return
      const started = Date.now()
      options.log(`kproxy: restarting Kafka node ${id}${where} (same node id, ports and data)`)
      try {
        await cluster.startBroker(id)
        state.set(id, 'running')
        options.log(`kproxy: Kafka node ${id}${where} is back after ${((Date.now() - started) / 1000).toFixed(1)} s`)
        return
      } catch (err) {
        if (stopped) return
        const line = cluster.lastErrorLine(id)
        options.log(`kproxy: restarting Kafka node ${id}${where} failed: ${(err as Error).message.split('\n')[0]!.replace(/;? \S+ ends with:$/, '')}${line === null ? '' : `; last error in its log: ${line}`}`)
        if (tooMany(id)) {
          giveUp(new KproxyError('KPROXY_ERR_SANDBOX_BROKER_DIED', `Kafka node ${id}${where} died or failed to restart more than ${MAX_RESTARTS} times within ${RESTART_WINDOW_MS / 60_000} minutes; stopping the sandbox. Look at its log (${cluster.logFile(id)}), then start a new sandbox (with a larger --broker-heap if it ran out of memory).`))
          return
        }
        await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS))
      }
    }
  }

  // Counts a death and says whether the node has died too often to try again.
  const tooMany = (id: number): boolean => {
    const now = Date.now()
    const recent = (deaths.get(id) ?? []).filter(at => now - at < RESTART_WINDOW_MS)
    recent.push(now)
    deaths.set(id, recent)
    return recent.length > MAX_RESTARTS
  }

  const onExit = (id: number, status: ExitStatus): void => {
    // A restart that fails during start-up is handled by restart() itself.
    if (stopped || gaveUp || state.get(id) !== 'running') return
    const line = cluster.lastErrorLine(id)
    if (!options.restart) {
      giveUp(new KproxyError('KPROXY_ERR_SANDBOX_BROKER_DIED', `Kafka node ${id}${where} ${describeExit(status)} (${line === null ? 'its log has no error line' : `last error in its log: ${line}`}); --no-restart was given, so the sandbox stops. Its log is ${cluster.logFile(id)}.`))
      return
    }
    const why = line === null ? 'its log has no error line' : `last error in its log: ${line}`
    options.log(`kproxy: Kafka node ${id}${where} ${describeExit(status)}; ${why} (${cluster.logFile(id)})`)
    if (tooMany(id)) {
      giveUp(new KproxyError('KPROXY_ERR_SANDBOX_BROKER_DIED', `Kafka node ${id}${where} died or failed to restart more than ${MAX_RESTARTS} times within ${RESTART_WINDOW_MS / 60_000} minutes (last: ${line ?? describeExit(status)}); stopping the sandbox. Look at its log (${cluster.logFile(id)}), then start a new sandbox (with a larger --broker-heap if it ran out of memory).`))
      return
    }
    state.set(id, 'restarting')
    void restart(id)
  }

  const unsubscribe = cluster.onUnexpectedExit(onExit)
  return {
    stop () {
      stopped = true
      unsubscribe()
    }
  }
}
