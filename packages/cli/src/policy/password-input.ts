// Reading a password for `kproxy users add`: from a terminal without echo (asked twice), or
// the whole of stdin with --password-stdin (one trailing newline dropped), for scripts.
import { KproxyError } from '@kproxy/core/kproxy-error'

export async function readPasswordFromStdin (stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  return checked(text)
}

function checked (password: string): string {
  if (password === '') throw new KproxyError('KPROXY_ERR_USERS_PASSWORD', 'The password is empty; give a non-empty password.')
  if (password.includes('\0')) throw new KproxyError('KPROXY_ERR_USERS_PASSWORD', 'The password holds a NUL character, which SASL/PLAIN cannot carry; choose another.')
  return password
}

// One line from a TTY in raw mode: nothing is echoed; backspace edits; Ctrl-C and Ctrl-D abort.
function readHiddenLine (prompt: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt)
    let line = ''
    const wasRaw = input.isRaw
    input.setRawMode(true)
    input.resume()
    const done = (err: Error | null): void => {
      input.removeListener('data', onData)
      input.setRawMode(wasRaw)
      input.pause()
      output.write('\n')
      if (err !== null) reject(err)
      else resolve(line)
    }
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null)
        if (ch === '\u0003' || ch === '\u0004') return done(new KproxyError('KPROXY_ERR_USERS_PASSWORD', 'Cancelled; the credentials file was not changed.'))
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('')
        else line += ch
      }
    }
    input.on('data', onData)
  })
}

export async function promptPassword (user: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (input.isTTY !== true) {
    throw new KproxyError('KPROXY_ERR_USERS_PASSWORD', 'stdin is not a terminal, so the password cannot be asked for; pipe it in with --password-stdin.')
  }
  const first = checked(await readHiddenLine(`Password for ${user}: `, input, output))
  const second = await readHiddenLine('Again: ', input, output)
  if (first !== second) throw new KproxyError('KPROXY_ERR_USERS_PASSWORD', 'The two passwords differ; the credentials file was not changed.')
  return first
}
