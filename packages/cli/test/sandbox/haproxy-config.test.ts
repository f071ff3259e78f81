import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { haproxyConfig, parseHaproxyStats } from '../../src/sandbox/haproxy-config.ts'
import type { LoadBalancerPlan } from '../../src/sandbox/haproxy-config.ts'

const plan: LoadBalancerPlan = {
  host: '127.0.0.1',
  ports: [{ name: 'bootstrap', port: 21000 }, { name: 'broker-1', port: 21002 }, { name: 'broker-2', port: 21003 }],
  replicas: [{ name: 'replica-1', host: '127.0.11.1' }, { name: 'replica-2', host: '127.0.11.2' }],
  adminPort: 21004,
  statsPort: 21005
}

t.test('one frontend per kproxy port; every backend has every replica on that same port, checked on /ready', async t => {
  const cfg = haproxyConfig(plan)
  for (const { name, port } of plan.ports) {
    t.match(cfg, `frontend ${name}\n  bind 127.0.0.1:${port}\n  default_backend ${name}\n`)
    t.match(cfg, `backend ${name}\n  balance leastconn\n  option httpchk GET /ready\n  http-check expect status 200\n` +
      `  server replica-1 127.0.11.1:${port} check port 21004\n  server replica-2 127.0.11.2:${port} check port 21004\n`)
  }
  t.match(cfg, /\n  mode tcp\n/)
  t.match(cfg, /\n  option redispatch 1\n/)
  t.match(cfg, /frontend stats\n  mode http\n  option httplog\n  timeout client 30s\n  bind 127\.0\.0\.1:21005\n/)
})

t.test('HAProxy itself accepts the configuration (haproxy -c)', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-haproxy-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, haproxyConfig(plan))
  // haproxy is installed by scripts/setup.sh
  const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Configuration file is valid/)
  t.notMatch(r.stdout + r.stderr, /WARNING|ALERT/, 'no warnings')
})

t.test('statistics CSV', async t => {
  const csv = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
bootstrap,FRONTEND,,,1,2,20000,7,100,200,0,0,0,,,,,OPEN,
bootstrap,replica-1,0,0,1,1,,4,50,90,,0,,0,0,0,0,UP,1
bootstrap,replica-2,0,0,0,1,,3,50,110,,0,,0,0,0,0,DOWN,1
bootstrap,BACKEND,0,0,1,2,2000,7,100,200,0,0,,0,0,0,0,UP,2
`
  t.same(parseHaproxyStats(csv), [
    { proxy: 'bootstrap', server: 'FRONTEND', current: 1, total: 7, status: 'OPEN' },
    { proxy: 'bootstrap', server: 'replica-1', current: 1, total: 4, status: 'UP' },
    { proxy: 'bootstrap', server: 'replica-2', current: 0, total: 3, status: 'DOWN' },
    { proxy: 'bootstrap', server: 'BACKEND', current: 1, total: 7, status: 'UP' }
  ])
  t.same(parseHaproxyStats('<html>not csv</html>'), [])
})
