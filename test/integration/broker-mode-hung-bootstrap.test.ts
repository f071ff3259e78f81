// Issue 8 defect "bootstrap onto a hung broker": a client connection on kproxy's bootstrap port used
// to be tied to the first upstream bootstrap server that accepted it. A broker whose JVM is alive
// at TCP level but does not answer (here: SIGSTOP) then made every new client wait out its own
// request timeout. kproxy now spreads bootstrap connections over the servers and, when one leaves
// the first requests unanswered for brokerMode.bootstrapAnswerTimeoutMs (default 1000 ms), sends
// them to the next server and remembers the slow one.
//
// Test: a real 3-node cluster; the JVM of the FIRST server of kproxy's --upstream list is stopped
// (SIGSTOP, continued in teardown whatever happens); `kcat -L` through `kproxy serve --workers 2`
// answers within 2 s, ten times in a row.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { hasKcat, kafkaCluster, kcat, kcatBrokers } from '../helpers/kafka.ts'
import { serveKproxy } from '../helpers/serve-kproxy.ts'

const RUNS = 10
const LIMIT_MS = 2000

t.test('kcat -L through kproxy answers within 2 s while the first bootstrap server is stopped', { skip: hasKcat() ? false : 'kcat not installed' }, async t => {
  const cluster = await kafkaCluster(t, { brokers: 3 })
  const brokers = [...cluster.info.brokers].sort((a, b) => a.id - b.id)
  const upstream = brokers.map(b => `${b.host}:${b.port}`).join(',')
  const first = brokers[0]!
  const kproxy = await serveKproxy(t, { upstream, workers: 2 })
  t.equal(kproxy.child.spawnargs[kproxy.child.spawnargs.indexOf('--upstream') + 1], upstream, `kproxy's --upstream starts with broker ${first.id} (${first.host}:${first.port})`)

  // the JVM of that node: its pid, checked against its command line (it names the node's config)
  const pid = cluster.pids().get(first.id)
  t.ok(pid !== undefined, `broker ${first.id} runs`)
  const cmdline = readFileSync(`/proc/${pid!}/cmdline`, 'utf8').split('\0').join(' ')
  t.match(cmdline, new RegExp(`node-${first.id}/server\\.properties`), `pid ${pid!} is the JVM of node ${first.id}`)

  // a warm-up through kproxy while everything runs
  const warm = await kcat(['-L', '-b', kproxy.bootstrap, '-m', '10'], { timeoutMs: 20_000 })
  t.equal(warm.code, 0, warm.stderr)
  t.equal(kcatBrokers(warm.stdout).length, 3)

  let stopped = false
  const resume = (): void => {
    if (!stopped) return
    stopped = false
    try { process.kill(pid!, 'SIGCONT') } catch {}
  }
  t.teardown(resume)
  try {
    process.kill(pid!, 'SIGSTOP')
    stopped = true
    // the process is really stopped ("T" in /proc/PID/stat), not merely signalled
    await sleep(100)
    const state = readFileSync(`/proc/${pid!}/stat`, 'utf8').replace(/^.*\) /, '')[0]
    t.equal(state, 'T', `broker ${first.id}'s JVM is stopped`)

    const times: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now()
      // -m 10: kcat would wait up to 10 s for metadata, so a slow answer shows as a slow run
      const r = await kcat(['-L', '-b', kproxy.bootstrap, '-m', '10'], { timeoutMs: 20_000 })
      const ms = Math.round(performance.now() - started)
      times.push(ms)
      t.equal(r.code, 0, `run ${i + 1}: kcat -L exits 0${r.code === 0 ? '' : `: ${r.stderr.slice(-1000)}`}`)
      // a real Metadata answer (the stopped broker drops out of it once the controller fences it)
      t.ok(kcatBrokers(r.stdout).length >= 2, `run ${i + 1}: the metadata lists the brokers`)
      t.ok(ms < LIMIT_MS, `run ${i + 1}: answered in ${ms} ms (< ${LIMIT_MS} ms)`)
    }
    t.comment(`kcat -L with broker ${first.id} stopped: ${times.join(', ')} ms (max ${Math.max(...times)} ms)`)
    // each worker that met the stopped server says so, once
    const skipped = kproxy.logs.filter(l => l.code === 'KPROXY_WARN_BOOTSTRAP_SERVER_SKIPPED')
    t.comment(`KPROXY_WARN_BOOTSTRAP_SERVER_SKIPPED lines: ${skipped.map(l => `worker ${String(l.worker)}: ${String(l.msg)}`).join(' | ')}`)
    t.ok(skipped.length >= 1 && skipped.length <= 2, 'logged once per worker that met it (2 workers)')
    t.ok(skipped.every(l => l.server === `${first.host}:${first.port}`), 'naming the stopped server')
  } finally {
    resume()
  }
})
