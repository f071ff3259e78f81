// What a section's resolver gets: where relative paths start, and a way to report a problem at a
// key path (the loader turns the path into file:line:column).
import type { PathPart } from './schema-kit.ts'

export interface ResolveContext {
  // Directory that relative paths in the config (filter modules) are resolved against.
  readonly baseDir: string
  report (path: readonly PathPart[], message: string): void
  // Whether the schema already reported a problem at or below this path (so a rule stays quiet
  // about a value that was left out because it was invalid).
  failed (path: readonly PathPart[]): boolean
}
