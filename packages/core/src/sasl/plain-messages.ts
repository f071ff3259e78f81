// RFC 4616 PLAIN:  message = [authzid] NUL authcid NUL passwd   (UTF-8, no NUL inside a field)
export interface PlainMessage {
  // '' when the client named none
  readonly authzid: string
  readonly username: string
  readonly password: string
}

// Kafka splits at the first two NULs and drops anything after a third; a token with more or
// fewer than two NULs is refused here (it is malformed either way, and a password silently cut
// at a NUL would be checked as a different password).
export function parsePlain (token: Buffer): { ok: true, message: PlainMessage } | { ok: false, reason: string } {
  const first = token.indexOf(0)
  const second = first < 0 ? -1 : token.indexOf(0, first + 1)
  if (second < 0 || token.indexOf(0, second + 1) >= 0) {
    const tokens = first < 0 ? 1 : second < 0 ? 2 : 4
    return { ok: false, reason: `invalid SASL/PLAIN response: expected 3 tokens, got ${tokens === 4 ? 'more' : tokens}` }
  }
  return {
    ok: true,
    message: {
      authzid: token.toString('utf8', 0, first),
      username: token.toString('utf8', first + 1, second),
      password: token.toString('utf8', second + 1)
    }
  }
}

export function formatPlain (username: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\0${username}\0${password}`, 'utf8')
}
