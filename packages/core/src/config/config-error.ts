// A configuration that cannot be used: every problem, each one line that names the file (or flag),
// the line and column, the key path and what is allowed.
import { KproxyError } from '../kproxy-error.ts'

export class ConfigError extends KproxyError {
  readonly errors: readonly string[]
  constructor (errors: readonly string[]) {
    super('KPROXY_ERR_CONFIG', errors.length === 1 ? errors[0]! : `${errors.length} configuration errors:\n  ${errors.join('\n  ')}`)
    this.errors = errors
  }
}
