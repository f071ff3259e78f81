// The plaintext connections of a TLS listener whose mode lets them in (permissive, disabled).
// When a reload makes the mode strict they are closed; TLS connections carry on, and new plaintext
// ones are refused at the listener. One per listener, in broker mode and mesh mode alike.
import type { Logger } from 'pino'
import type { ClientSession } from './client-session.ts'

export class PlaintextSessions {
  readonly #sessions = new Set<ClientSession>()

  add (session: ClientSession): void { this.#sessions.add(session) }
  delete (session: ClientSession): void { this.#sessions.delete(session) }

  // `modeKey`: the config key of the listener's mode (brokerMode.tls.mode, mesh.tls.mode).
  closeIfStrict (mode: string | undefined, modeKey: string, logger: Logger): void {
    if (mode !== 'strict' || this.#sessions.size === 0) return
    const n = this.#sessions.size
    for (const s of [...this.#sessions]) s.close('KPROXY_ERR_PLAINTEXT_REFUSED', `${modeKey} is now strict: plaintext connections are closed`)
    logger.warn({ code: 'KPROXY_ERR_PLAINTEXT_REFUSED', closed: n }, `${modeKey} is now strict: ${n} plaintext connection(s) closed; TLS connections carry on`)
  }
}
