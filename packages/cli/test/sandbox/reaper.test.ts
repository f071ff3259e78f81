import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { spawnReaper } from '../../src/sandbox/reaper.ts'

const reaperModule = fileURLToPath(new URL('../../src/sandbox/reaper.ts', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'kproxy-reaper-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

// Zombies still answer kill -0; a process is gone when it is absent or a zombie.
function alive (pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function until (check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline && !check()) await sleep(100)
  return check()
}

t.test('when its parent is SIGKILLed, the reaper kills the pids and removes the paths', async t => {
  const dir = join(scratch, 'owned')
  mkdirSync(join(dir, 'deep'), { recursive: true })
  writeFileSync(join(dir, 'deep', 'file'), 'x')
  const pidFile = join(dir, 'victim.pid')
  // A parent that starts a long-lived "JVM" (sleep) and a reaper, then waits to be killed.
  const script = `
    import { spawn } from 'node:child_process'
    import { writeFileSync } from 'node:fs'
    import { spawnReaper } from ${JSON.stringify(reaperModule)}
    const victim = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' })
    victim.unref()
    writeFileSync(${JSON.stringify(pidFile)}, String(victim.pid))
    const reaper = spawnReaper([${JSON.stringify(pidFile)}], [${JSON.stringify(dir)}])
    process.stdout.write(JSON.stringify({ victim: victim.pid, reaper: reaper.pid }) + '\\n')
    setInterval(() => {}, 1000)
  `
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>(resolve => parent.stdout.once('data', (c: Buffer) => resolve(c.toString())))
  const { victim, reaper } = JSON.parse(line) as { victim: number, reaper: number }
  t.teardown(() => {
    for (const pid of [victim, reaper]) { try { process.kill(pid, 'SIGKILL') } catch {} }
  })
  t.ok(alive(victim) && alive(reaper))
  await sleep(700)
  t.ok(alive(victim), 'nothing happens while the parent lives')
  t.ok(existsSync(dir))
  parent.kill('SIGKILL')
  t.ok(await until(() => !alive(victim), 10_000), 'victim killed')
  t.ok(await until(() => !existsSync(dir), 10_000), 'directory removed')
  t.ok(await until(() => !alive(reaper), 5_000), 'reaper exits when done')
})

t.test('stop() ends the reaper and leaves everything alone', async t => {
  const dir = join(scratch, 'kept')
  mkdirSync(dir)
  const victim = spawn('sleep', ['300'], { stdio: 'ignore' })
  t.teardown(() => { victim.kill('SIGKILL') })
  const pidFile = join(dir, 'victim.pid')
  writeFileSync(pidFile, String(victim.pid))
  const reaper = spawnReaper([pidFile], [dir])
  t.ok(reaper.pid > 0)
  t.ok(alive(reaper.pid))
  reaper.stop()
  t.ok(await until(() => !alive(reaper.pid), 5_000), 'reaper gone')
  t.ok(alive(victim.pid!), 'victim untouched')
  t.ok(existsSync(dir), 'directory untouched')
})
