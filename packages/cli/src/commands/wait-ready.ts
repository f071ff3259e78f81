// `kproxy wait-ready`: blocks until a kproxy's admin API says ready, for whatever must not start
// before its kproxy (the application container beside a kproxy sidecar, a script, a test).
import { parseArgs } from 'node:util'
import { KproxyError } from '@kproxy/core/kproxy-error'
import type { Command } from '../command.ts'

const DEFAULT_ADMIN = '127.0.0.1:9901'

const usage = `Usage: kproxy wait-ready [--admin HOST:PORT | --url URL] [--timeout DURATION] [--interval DURATION] [--quiet]

Waits until a kproxy's admin API answers GET /ready with 200: every worker listens and the
upstream answered. For an application that must not start before its kproxy sidecar (a
Kubernetes init container or the first step of a container's command), or any script.

  --admin HOST:PORT    the kproxy's admin API (default ${DEFAULT_ADMIN}; kproxy serve --admin)
  --url URL            the same as a URL, e.g. http://kproxy.internal:9901
  --timeout DURATION   give up after this long (default 60s); e.g. 500ms, 30s, 2m
  --interval DURATION  pause between polls (default 500ms)
  --quiet              print nothing on success

Exit codes:
  0  ready
  1  the admin API answered, but kproxy was not ready before the timeout (its reason is printed)
  2  usage error
  3  the admin API never answered before the timeout (kproxy not started, wrong address)`

const EXIT_READY = 0
const EXIT_NOT_READY = 1
const EXIT_USAGE = 2
const EXIT_UNREACHABLE = 3

function report (err: KproxyError): void {
  process.stderr.write(`kproxy wait-ready: ${err.message} [${err.code}]\n`)
}

function usageError (message: string): number {
  process.stderr.write(`kproxy wait-ready: ${message}\n\n${usage}\n`)
  return EXIT_USAGE
}

// '500ms', '30s', '2m', or a plain number of seconds -> milliseconds; null if not a duration.
export function parseDuration (text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (m === null) return null
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)
  return Number.isFinite(ms) ? Math.round(ms) : null
}

// The admin API's base URL from --admin or --url; a string is the usage error.
function adminUrl (admin: string | undefined, url: string | undefined): URL | string {
  if (admin !== undefined && url !== undefined) return 'give --admin or --url, not both.'
  const text = url ?? `http://${admin ?? DEFAULT_ADMIN}`
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return url !== undefined ? `--url '${url}' is not a URL (e.g. http://127.0.0.1:9901).` : `--admin '${admin}' is not HOST:PORT (e.g. 127.0.0.1:9901).`
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `--url '${url}' must start with http:// or https://.`
  if (admin !== undefined && (parsed.port === '' || parsed.pathname !== '/' || parsed.username !== '')) return `--admin '${admin}' is not HOST:PORT (e.g. 127.0.0.1:9901).`
  return parsed
}

async function run (argv: string[]): Promise<number> {
  let values: { admin?: string, url?: string, timeout?: string, interval?: string, quiet?: boolean }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        admin: { type: 'string' },
        url: { type: 'string' },
        timeout: { type: 'string' },
        interval: { type: 'string' },
        quiet: { type: 'boolean' }
      },
      strict: true,
      allowPositionals: false
    }))
  } catch (err) {
    return usageError((err as Error).message)
  }
  const url = adminUrl(values.admin, values.url)
  if (typeof url === 'string') return usageError(url)
  const timeoutMs = parseDuration(values.timeout ?? '60s')
  if (timeoutMs === null || timeoutMs <= 0 || timeoutMs > 24 * 3_600_000) return usageError(`--timeout '${values.timeout}' is not a duration from 1ms to 24h (e.g. 30s).`)
  const intervalMs = parseDuration(values.interval ?? '500ms')
  if (intervalMs === null || intervalMs < 10 || intervalMs > 60_000) return usageError(`--interval '${values.interval}' is not a duration from 10ms to 1m (e.g. 500ms).`)

  const { waitReady } = await import('../admin-client/ready-poller.ts')
  const where = `${url.origin}/ready`
  const outcome = await waitReady({ url: url.href, timeoutMs, intervalMs })
  const seconds = (outcome.afterMs / 1000).toFixed(1)
  switch (outcome.kind) {
    case 'ready':
      if (values.quiet !== true) process.stderr.write(`kproxy wait-ready: ${where} ready after ${seconds} s\n`)
      return EXIT_READY
    case 'not-ready':
      report(new KproxyError('KPROXY_ERR_NOT_READY', `${where} still not ready after ${seconds} s (HTTP ${outcome.status}: ${outcome.reason}); look at kproxy's log for why.`))
      return EXIT_NOT_READY
    case 'unreachable':
      report(new KproxyError('KPROXY_ERR_ADMIN_UNREACHABLE', `nothing answered at ${where} within ${seconds} s (${outcome.error}); check that kproxy runs with --admin on that address.`))
      return EXIT_UNREACHABLE
  }
}

export const waitReadyCommand: Command = {
  name: 'wait-ready',
  summary: "wait until a kproxy's admin API says ready (sidecar start-up ordering)",
  usage,
  run
}
