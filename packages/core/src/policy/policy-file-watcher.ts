// Live reload of a policy file (credentials, ACL rules, quotas) without a restart. The file is
// polled: read every second and compared by content digest with the last version read (an
// unref'd timer: it keeps no process alive), which also sees the temp-file-and-rename writes that
// `kproxy users` and editors do. Reading, not fs.watchFile: watchFile takes its first stat
// asynchronously after it starts, so a change made between the start-up read and that stat
// became the baseline and was never reported (a quotas test on a loaded machine waited 60 s for
// it). Policy files are small; one read a second costs nothing. `reload()` is there for SIGHUP
// and the admin API. A file that does not parse leaves the running value in effect and
// is reported once per distinct content; the next good version replaces it.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { KproxyError, isKproxyError } from '../kproxy-error.ts'

export interface PolicyFileOptions<T> {
  readonly path: string
  // throws a KproxyError (file, line, what is allowed) when the content is not acceptable
  readonly parse: (text: string, file: string) => T
  readonly onChange?: (value: T, version: number) => void
  readonly onError?: (err: KproxyError) => void
  readonly intervalMs?: number
}

export interface WatchedPolicyFile<T> {
  readonly path: string
  readonly current: T
  // 1 for the value read at start, +1 per accepted change
  readonly version: number
  // reads the file now; resolves true when a new value was accepted
  reload (): Promise<boolean>
  close (): void
}

function readError (path: string, err: unknown): KproxyError {
  if (isKproxyError(err)) return err
  const code = (err as NodeJS.ErrnoException).code
  return new KproxyError('KPROXY_ERR_POLICY_FILE_READ', `Cannot read the policy file ${path} (${code ?? (err as Error).message}); check that it exists and that kproxy may read it.`)
}

function digest (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

// Reads and parses once, synchronously (start-up): throws when the file is missing or bad.
export function loadPolicyFile<T> (path: string, parse: (text: string, file: string) => T): T {
  const file = resolve(path)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw readError(file, err)
  }
  return parse(text, file)
}

export function watchPolicyFile<T> (options: PolicyFileOptions<T>): WatchedPolicyFile<T> {
  const file = resolve(options.path)
  const text = (() => {
    try {
      return readFileSync(file, 'utf8')
    } catch (err) {
      throw readError(file, err)
    }
  })()
  let current = options.parse(text, file)
  let version = 1
  let seen = digest(text)
  let closed = false
  let pending: Promise<boolean> | null = null

  const load = async (): Promise<boolean> => {
    let next: string
    try {
      next = await readFile(file, 'utf8')
    } catch (err) {
      const e = readError(file, err)
      const mark = `error:${e.message}`
      if (mark !== seen) options.onError?.(e)
      seen = mark
      return false
    }
    const d = digest(next)
    if (d === seen || closed) return false
    seen = d
    let value: T
    try {
      value = options.parse(next, file)
    } catch (err) {
      options.onError?.(readError(file, err))
      return false
    }
    current = value
    version++
    options.onChange?.(value, version)
    return true
  }

  // One read at a time; a reload asked for during a read runs after it.
  const reload = async (): Promise<boolean> => {
    while (pending !== null) await pending.catch(() => false)
    pending = load()
    try {
      return await pending
    } finally {
      pending = null
    }
  }

  // a poll while a read is still going on is skipped (the read sees the latest content anyway)
  const timer = setInterval(() => { if (pending === null) reload().catch(() => {}) }, options.intervalMs ?? 1000)
  timer.unref()

  return {
    path: file,
    get current () { return current },
    get version () { return version },
    reload,
    close () {
      closed = true
      clearInterval(timer)
    }
  }
}
