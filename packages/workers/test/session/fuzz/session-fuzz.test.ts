// The session fuzz as `pnpm test` runs it: the `pnpm test:fuzz` command itself (a child process, so
// that its memory is its own) with 100,000 request frames instead of 1,000,000. It must exit 0, and
// its report must show that the run went everywhere it is meant to go.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BRIDGED_APIS } from '@kproxy/core/protocol/api-keys'
import type { FuzzReport } from './session-fuzz.ts'
import { DENIED_KEYS } from './fuzz-chain.ts'

const COMMAND = fileURLToPath(new URL('./session-fuzz.ts', import.meta.url))
const FRAMES = 100_000

t.test(`session fuzz: ${FRAMES} random and mutated frames through the full filter chain`, async t => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => {
    execFile(process.execPath, ['--expose-gc', COMMAND, '--frames', String(FRAMES), '--seed', '8', '--json'], { maxBuffer: 16 << 20, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as FuzzReport
  const { summarize } = await import('./session-fuzz.ts')
  t.comment(summarize(report))
  t.equal(code, 0, `exit 0${code === 0 ? '' : `: ${stderr.slice(-2000)}`}`)
  t.same(report.failures, {}, 'no escaped or uncaught exception, no hang, whole frames in order, requests forwarded as sent unless changed, memory bounded')
  t.ok(report.ok)
  t.ok(report.frames >= FRAMES, `${report.frames} frames reached open sessions`)
  t.ok(report.memory.gc, 'memory measured after a GC')
  // the run went everywhere
  for (const m of ['valid', 'flip', 'pattern', 'truncated', 'extended', 'random-body', 'unknown-key', 'unknown-version', 'negative-version', 'tiny', 'oversized-claim', 'lying-size', 'random']) {
    t.ok((report.mutations[m] ?? 0) > 0, `mutation ${m}`)
  }
  for (const [what, n] of Object.entries(report.hostile)) t.ok(n > 0, `the hostile filter ${what}`)
  for (const c of ['KPROXY_ERR_DECODE', 'KPROXY_ERR_UNKNOWN_API', 'KPROXY_ERR_UNSUPPORTED_VERSION', 'KPROXY_ERR_FRAME_TOO_LARGE', 'KPROXY_ERR_FRAME_INVALID_SIZE', 'KPROXY_ERR_FILTER_CLOSED', 'KPROXY_ERR_FILTER_FAILING', 'KPROXY_ERR_DENIED_NO_RESPONSE']) {
    t.ok((report.closedBy[c] ?? 0) > 0, `sessions closed with ${c}`)
  }
  t.ok((report.logCodes.KPROXY_ERR_FILTER_TIMEOUT ?? 0) > 0, 'held requests answered at the hold deadline (KPROXY_ERR_FILTER_TIMEOUT)')
  t.ok((report.logCodes.KPROXY_ERR_FILTER_FAILED ?? 0) > 0, 'filter failures answered (KPROXY_ERR_FILTER_FAILED)')
  t.ok((report.closedBy.open ?? 0) > report.sessions / 10, 'many sessions lived to the end and were checked for order')
  // the fuzzed chain has the ACL filter, which refuses SaslHandshake v0 (a raw relay would skip
  // every filter): the v0 handshakes must be refused, never relayed
  t.ok((report.logCodes.KPROXY_WARN_ACL_UNCHECKABLE ?? 0) > 0, 'SaslHandshake v0 refused by the ACL filter (KPROXY_WARN_ACL_UNCHECKABLE)')
  t.equal(report.passthrough, 0, 'no connection became a raw relay past the filters')
  t.ok(report.drained > 0, 'drained sessions')
  t.ok(report.responses.mutated > 0 && report.responses.madeByRoute > 0, 'mutated and route-made answers')
  t.ok(report.forwarded.asBytes > 0 && report.forwarded.encoded > 0, 'requests forwarded as the client\'s bytes and encoded again')
  t.ok(report.lentSessions > report.sessions / 4 && report.lentSessions < report.sessions, `some sessions had their reads lent in slabs, some not (${report.lentSessions} of ${report.sessions})`)
  // the version bridge converted every bridged version of every API the API key policy lets
  // through, with real records both ways, and refused what it could not convert
  for (const api of BRIDGED_APIS) {
    if (DENIED_KEYS.includes(api.apiKey)) continue
    for (let v = api.bridgedMinVersion; v <= api.bridgedMaxVersion; v++) {
      t.ok(Object.keys(report.bridged).some(k => k.startsWith(`${api.apiKey} v${v}->`)), `the version bridge converted ${api.name} v${v}`)
    }
  }
  t.ok(report.responses.bridged > 0, 'answers at the version the bridge sent')
  t.ok(report.converted.produce > 0, 'old Produce message sets went upstream as v2 batches')
  t.ok(report.converted.fetch > 0, 'v2 batches reached old Fetch clients as message sets')
  for (const c of ['KPROXY_ERR_MESSAGE_SET', 'KPROXY_ERR_RECORD_BATCH_TOO_LARGE']) t.ok((report.logCodes[c] ?? 0) > 0, `the version bridge answered records it could not convert (${c})`)
  // the quota filter throttled answers and refused connections and requests
  const quotas = Object.values(report.quotas)
  t.ok(quotas.reduce((n, q) => n + q.throttled, 0) > 0, 'answers throttled by a quota')
  t.ok((report.quotas['connection-rate']?.refused ?? 0) > 0 && (report.logCodes.KPROXY_ERR_QUOTA_CONNECTIONS ?? 0) > 0, 'connections refused by a quota')
  t.ok((report.quotas['partitions-per-request']?.refused ?? 0) > 0 && (report.logCodes.KPROXY_ERR_QUOTA_PARTITIONS ?? 0) > 0, 'requests refused by a quota')
})
