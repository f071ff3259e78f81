// The terminal side of `kproxy top`: the alternate screen, keys read raw (q quits, r/t/e/l/n
// sort, f shows or hides flows), a repaint every interval and on each key or resize, and the
// terminal put back as it was on the way out, whatever the way out is.
import type { AdminClient } from '../admin-client/admin-client.ts'
import { fetchTop } from './top-fetch.ts'
import { renderTop, SORT_KEYS } from './top-view.ts'
import type { TopData, TopState } from './top-view.ts'

const ENTER = '\x1b[?1049h\x1b[?25l'
const LEAVE = '\x1b[?25h\x1b[?1049l'
const CTRL_C = '\x03'

export interface TopOptions {
  intervalMs: number
  state: TopState
}

export function runTop (client: AdminClient, first: TopData, o: TopOptions): Promise<void> {
  const stdin = process.stdin
  const stdout = process.stdout
  let data = first
  const state = o.state
  let timer: NodeJS.Timeout | null = null
  let stopped = false

  const paint = (): void => {
    const lines = renderTop(data, state, { columns: stdout.columns || 80, rows: stdout.rows || 24 })
    stdout.write('\x1b[H' + lines.map(l => l + '\x1b[K').join('\r\n') + '\x1b[J')
  }

  return new Promise(resolve => {
    const stop = (): void => {
      if (stopped) return
      stopped = true
      if (timer !== null) clearTimeout(timer)
      stdin.off('data', onKey)
      stdout.off('resize', paint)
      process.off('SIGTERM', stop)
      if (stdin.isTTY) stdin.setRawMode(false)
      stdin.pause()
      stdout.write(LEAVE)
      resolve()
    }
    const tick = (): void => {
      fetchTop(client, state.showFlows).then(d => {
        data = d
        state.problem = null
      }, (err: unknown) => {
        state.problem = `${(err as Error).message} (retrying)`
      }).finally(() => {
        if (stopped) return
        paint()
        timer = setTimeout(tick, o.intervalMs)
      })
    }
    function onKey (chunk: Buffer): void {
      for (const key of chunk.toString('utf8')) {
        if (key === 'q' || key === CTRL_C) return stop()
        const sort = SORT_KEYS[key]
        if (sort !== undefined) state.sort = sort
        else if (key === 'f') state.showFlows = !state.showFlows
      }
      paint()
    }
    stdout.write(ENTER)
    if (stdin.isTTY) stdin.setRawMode(true)
    stdin.on('data', onKey)
    stdin.resume()
    stdout.on('resize', paint)
    process.on('SIGTERM', stop)
    paint()
    timer = setTimeout(tick, o.intervalMs)
  })
}
