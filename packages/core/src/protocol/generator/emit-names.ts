// Names and small expressions shared by the emitters: module and identifier names, TypeScript
// string literals, and version tests simplified for the versions in which code can run.
import { contains, intersect, isEmpty } from './spec.ts'
import type { MessageSpec, Range } from './spec.ts'

export function kebabCase (name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').toLowerCase()
}

export function moduleName (spec: MessageSpec): string {
  return `${kebabCase(spec.name)}.ts`
}

export function dataTypeName (spec: MessageSpec): string {
  return `${spec.name}Data`
}

export function codecName (spec: MessageSpec): string {
  return `${spec.name.charAt(0).toLowerCase()}${spec.name.slice(1)}Codec`
}

// A version condition as a TypeScript expression, simplified for the versions `context` in which
// the code can run: 'true', 'false', or e.g. 'version >= 3'.
export function versionCondition (field: Range, context: Range): string {
  const f = intersect(field, context)
  if (isEmpty(f) || isEmpty(context)) return 'false'
  if (contains(f, context)) return 'true'
  if (f.lo === f.hi && f.lo > context.lo && f.hi < context.hi) return `version === ${f.lo}`
  const parts: string[] = []
  if (f.lo > context.lo) parts.push(`version >= ${f.lo}`)
  if (f.hi < context.hi) parts.push(`version <= ${f.hi}`)
  return parts.join(' && ')
}

export function tsString (s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
}

export function schemaName (spec: MessageSpec): string {
  return `${spec.name.charAt(0).toLowerCase()}${spec.name.slice(1)}Schema`
}
