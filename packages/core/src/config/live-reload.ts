// A reload (SIGHUP, POST /reload) applies only what can change without rebinding sockets or
// restarting threads; everything else keeps its running value and is reported.
import { LIVE_KEYS, RESTART_KEYS } from './schema/config-keys.ts'
import type { ProxyConfig } from './proxy-config.ts'

export interface LiveChange {
  config: ProxyConfig
  // Key paths whose new value differs but needs a restart.
  needsRestart: string[]
  // Key paths whose new value is now in effect.
  applied: string[]
}

function get (obj: unknown, path: string): unknown {
  let node = obj
  for (const p of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[p]
  return node
}

function set (obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = obj
  for (const p of parts.slice(0, -1)) {
    const next = node[p]
    // a live key under a group that is absent in the running config (brokerMode.tls.mode while
    // TLS is off): the group itself needs a restart, which is reported
    if (next === null || typeof next !== 'object') return
    node = next as Record<string, unknown>
  }
  node[parts[parts.length - 1]!] = value
}

// Which keys are live is a property of each key in the schema (`live`); a group such as
// brokerMode.tls is one unit. TLS settings name files; the files themselves are watched and
// reloaded (docs/tls.md), but switching TLS on or off, or to other files, rebuilds listeners.
export function applyLiveChanges (running: ProxyConfig, next: ProxyConfig): LiveChange {
  const config = structuredClone(running) as unknown as Record<string, unknown>
  const applied: string[] = []
  for (const key of LIVE_KEYS) {
    const value = get(next, key)
    if (JSON.stringify(value) !== JSON.stringify(get(running, key))) {
      set(config, key, structuredClone(value))
      applied.push(key)
    }
  }
  const needsRestart = RESTART_KEYS.filter(k => JSON.stringify(get(next, k)) !== JSON.stringify(get(running, k)))
  config.source = next.source
  return { config: config as unknown as ProxyConfig, needsRestart, applied }
}
