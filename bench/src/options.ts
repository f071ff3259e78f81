// Command-line options of `kproxy bench <scenario>`, validated into one plain object that can be
// handed to worker threads. Every mistake is a KproxyError KPROXY_ERR_BENCH_USAGE with one sentence.
import { parseArgs } from 'node:util'
import { KproxyError } from '@kproxy/core/kproxy-error'

export const SCENARIOS = ['produce', 'fetch', 'roundtrip', 'connections'] as const
export type Scenario = typeof SCENARIOS[number]

export interface BenchOptions {
  scenario: Scenario
  host: string
  port: number
  connections: number
  threads: number
  durationMs: number
  // requests per second over all connections; 0 = as fast as the window allows
  rate: number
  // requests in flight per connection
  inFlight: number
  recordSize: number
  recordsPerBatch: number
  partitions: number
  acks: 0 | 1 | -1
  topic: string
  prefillMb: number
  fetchMaxBytes: number
  request: 'apiversions' | 'metadata'
  count: number
  targetPid: number
  // send every request to --target, not to the leaders' advertised addresses (a layer-4 proxy
  // such as Envoy tcp_proxy in front of a single broker does not rewrite them)
  pinTarget: boolean
  json: boolean
  out: string
  label: string
  // TLS toward the target (a kproxy TLS listener): the CA that signed its certificate, and a
  // client certificate and key for mTLS (the principal kproxy's policy sees); null: plaintext
  tls: { ca: string, cert: string | null, key: string | null } | null
  // the client id of every request (quotas by client id)
  clientId: string
}

export const USAGE = `Usage: kproxy bench <produce|fetch|roundtrip|connections> --target HOST:PORT [options]

common:      --connections N (4)  --threads N (min(connections, 2))  --duration SECONDS (10)
             --rate N  fixed request rate over all connections, latency corrected for
                       coordinated omission (default: maximum rate)
             --json  print JSON instead of a table   --out DIR  write .hgrm, JSON and SVG there
             --label NAME (the target)  --target-pid PID  target process for CPU/memory figures
             --tls-ca FILE  connect with TLS, trusting this CA  --tls-cert FILE --tls-key FILE
                       a client certificate (mTLS: the principal policy sees)
             --client-id NAME (kproxy-bench)
produce:     --record-size BYTES (1024) --records-per-batch N (100) --partitions N (6)
             --acks 0|1|all (1) --in-flight N (5) --topic NAME (kproxy-bench)
             --pin-target  send to --target, not to the advertised leaders (a layer-4 proxy
                           in front of a single broker)
fetch:       --record-size --records-per-batch --partitions --topic --prefill-mb N (64)
             --fetch-max-bytes BYTES (4194304) --in-flight N (1)
roundtrip:   --request apiversions|metadata (apiversions) --pipeline N (1)
connections: --count N (1000) --target-pid PID (memory per connection of that process)`

const SPEC = {
  target: { type: 'string' },
  connections: { type: 'string' },
  threads: { type: 'string' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  'in-flight': { type: 'string' },
  pipeline: { type: 'string' },
  'record-size': { type: 'string' },
  'records-per-batch': { type: 'string' },
  partitions: { type: 'string' },
  acks: { type: 'string' },
  topic: { type: 'string' },
  'prefill-mb': { type: 'string' },
  'fetch-max-bytes': { type: 'string' },
  request: { type: 'string' },
  count: { type: 'string' },
  'target-pid': { type: 'string' },
  json: { type: 'boolean' },
  'pin-target': { type: 'boolean' },
  out: { type: 'string' },
  label: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'client-id': { type: 'string' }
} as const

// Which options belong to which scenario (the common ones belong to all).
const COMMON = ['target', 'connections', 'threads', 'duration', 'rate', 'json', 'out', 'label', 'target-pid', 'tls-ca', 'tls-cert', 'tls-key', 'client-id']
const ONLY: Record<Scenario, string[]> = {
  produce: ['record-size', 'records-per-batch', 'partitions', 'acks', 'in-flight', 'topic', 'pin-target'],
  fetch: ['record-size', 'records-per-batch', 'partitions', 'topic', 'prefill-mb', 'fetch-max-bytes', 'in-flight', 'pin-target'],
  roundtrip: ['request', 'pipeline'],
  connections: ['count']
}

export function usageError (message: string): KproxyError {
  return new KproxyError('KPROXY_ERR_BENCH_USAGE', message)
}

function integer (name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'.`)
  }
  return n
}

export function parseHostPort (text: string, what = '--target'): { host: string, port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || !(port >= 1 && port <= 65535)) throw usageError(`${what} must be HOST:PORT (e.g. 127.0.0.1:9092), not '${text}'.`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
}

export function parseBenchArgs (argv: readonly string[]): BenchOptions {
  const [scenarioText, ...rest] = argv
  if (scenarioText === undefined || scenarioText.startsWith('-')) throw usageError(`Name a scenario: ${SCENARIOS.join(', ')}.`)
  if (!(SCENARIOS as readonly string[]).includes(scenarioText)) throw usageError(`Unknown scenario '${scenarioText}'; choose one of ${SCENARIOS.join(', ')}.`)
  const scenario = scenarioText as Scenario
  let values: Record<string, string | boolean | undefined>
  try {
    ({ values } = parseArgs({ args: [...rest], options: SPEC, strict: true, allowPositionals: false }))
  } catch (err) {
    throw usageError((err as Error).message)
  }
  for (const [name, v] of Object.entries(values)) {
    if (v !== undefined && !COMMON.includes(name) && !ONLY[scenario].includes(name)) {
      throw usageError(`--${name} does not apply to the ${scenario} scenario.`)
    }
  }
  const s = (name: string): string | undefined => values[name] as string | undefined
  if (s('target') === undefined) throw usageError('--target HOST:PORT is required.')
  const { host, port } = parseHostPort(s('target')!)
  const connections = integer('connections', s('connections'), 4, 1, 10_000)
  const acksText = s('acks') ?? '1'
  const acks = acksText === 'all' || acksText === '-1' ? -1 : acksText === '0' ? 0 : acksText === '1' ? 1 : null
  if (acks === null) throw usageError(`--acks must be 0, 1 or all, not '${acksText}'.`)
  const durationText = s('duration')
  const duration = durationText === undefined ? 10 : Number(durationText)
  if (!(duration > 0 && duration <= 3600)) throw usageError(`--duration must be a number of seconds above 0 and at most 3600, not '${durationText}'.`)
  const rateText = s('rate')
  const rate = rateText === undefined ? 0 : Number(rateText)
  if (rateText !== undefined && !(rate > 0 && rate <= 10_000_000)) throw usageError(`--rate must be a positive number of requests per second, not '${rateText}'.`)
  if (rate > 0 && acks === 0 && scenario === 'produce') throw usageError('--rate needs responses to measure latency; use --acks 1 or all with it.')
  const request = s('request') ?? 'apiversions'
  if (request !== 'apiversions' && request !== 'metadata') throw usageError(`--request must be apiversions or metadata, not '${request}'.`)
  const pid = integer('target-pid', s('target-pid'), 0, 1, 2 ** 22)
  const recordSize = integer('record-size', s('record-size'), 1024, 0, 1 << 20)
  const recordsPerBatch = integer('records-per-batch', s('records-per-batch'), 100, 1, 100_000)
  if (recordSize * recordsPerBatch > 16 << 20) throw usageError('--record-size times --records-per-batch must stay under 16 MiB per request.')
  const tlsCa = s('tls-ca')
  const tlsCert = s('tls-cert')
  const tlsKey = s('tls-key')
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw usageError('--tls-cert and --tls-key go together.')
  if (tlsCert !== undefined && tlsCa === undefined) throw usageError('--tls-cert needs --tls-ca (the CA of the target\'s certificate).')
  const clientId = s('client-id') ?? 'kproxy-bench'
  if (clientId === '' || Buffer.byteLength(clientId) > 32767) throw usageError('--client-id must be a non-empty name.')
  const inFlightDefault = scenario === 'produce' ? 5 : 1
  const inFlight = scenario === 'roundtrip'
    ? integer('pipeline', s('pipeline'), 1, 1, 10_000)
    : integer('in-flight', s('in-flight'), inFlightDefault, 1, 1000)
  return {
    scenario,
    host,
    port,
    connections,
    threads: integer('threads', s('threads'), Math.min(connections, 2), 1, 64),
    durationMs: Math.round(duration * 1000),
    rate,
    inFlight,
    recordSize,
    recordsPerBatch,
    partitions: integer('partitions', s('partitions'), 6, 1, 10_000),
    acks,
    topic: s('topic') ?? (scenario === 'fetch' ? 'kproxy-bench-fetch' : 'kproxy-bench'),
    prefillMb: integer('prefill-mb', s('prefill-mb'), 64, 1, 100_000),
    fetchMaxBytes: integer('fetch-max-bytes', s('fetch-max-bytes'), 4 << 20, 1024, 1 << 30),
    request,
    count: integer('count', s('count'), 1000, 1, 100_000),
    targetPid: pid,
    pinTarget: values['pin-target'] === true,
    json: values.json === true,
    out: s('out') ?? '',
    label: s('label') ?? `${host}:${port}`,
    tls: tlsCa === undefined ? null : { ca: tlsCa, cert: tlsCert ?? null, key: tlsKey ?? null },
    clientId
  }
}
