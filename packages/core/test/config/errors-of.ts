// The config tests' way to read a ConfigError: the list of messages `fn` was refused with.
import { ConfigError } from '../../src/config/config-error.ts'

export function errorsOf (fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return [...err.errors]
    throw err
  }
  throw new Error('no ConfigError thrown')
}
