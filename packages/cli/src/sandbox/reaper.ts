import { spawn } from 'node:child_process'

// A detached shell that outlives this process. It polls the parent with `kill -0` and, once the
// parent is gone (SIGKILL, crash, forgotten stop()), SIGKILLs the JVMs named in the pid files and
// removes the directories. A normal stop() ends the reaper itself after cleaning up.
//
// Arguments: $1 parent pid, $2 number of pid files, then the pid files, then the paths to remove.
const SCRIPT = `
parent=$1; n=$2; shift 2
while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
pids=''; i=0
for a in "$@"; do
  i=$((i + 1)); [ "$i" -le "$n" ] || break
  [ -f "$a" ] && pids="$pids $(cat "$a" 2>/dev/null)"
done
shift "$n"
if [ -n "$pids" ]; then
  kill -KILL $pids 2>/dev/null
  t=0
  while [ "$t" -lt 50 ]; do
    alive=''
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1; t=$((t + 1))
  done
fi
rm -rf "$@" 2>/dev/null || { sleep 1; rm -rf "$@"; }
`

export interface Reaper {
  readonly pid: number
  stop (): void
}

export function spawnReaper (pidFiles: readonly string[], paths: readonly string[]): Reaper {
  const child = spawn('sh', ['-c', SCRIPT, 'kproxy-sandbox-reaper', String(process.pid), String(pidFiles.length), ...pidFiles, ...paths], {
    detached: true,
    stdio: 'ignore'
  })
  child.on('error', () => {})
  child.unref()
  const pid = child.pid ?? -1
  return {
    pid,
    stop () {
      if (pid <= 0) return
      // The reaper leads its own process group (detached): take its `sleep` along.
      try { process.kill(-pid, 'SIGKILL') } catch {}
    }
  }
}
