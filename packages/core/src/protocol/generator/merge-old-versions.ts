// Merges the bridged versions of a message (from the last 3.x release's definition) into the
// pinned release's definition, so that one codec and one TypeScript type cover every version: a
// request decoded at an old version and encoded at a current one keeps every field the two
// versions share, which is what the version bridge needs.
//
// Fields are matched by name, struct by struct. In the bridged versions a field is on the wire
// exactly when the 3.x definition says so; in the current versions exactly when the pinned one
// says so. Fields that only the old versions have (ListOffsets v0 MaxNumOffsets, OffsetCommit v1
// CommitTimestamp, ...) are inserted where the 3.x definition has them. Anything that cannot be
// expressed that way (a type that changed, a field renamed, a different wire order) is refused
// with KPROXY_ERR_GENERATOR rather than guessed; verifyWireOrder() checks the result version by
// version against both definitions.
import { computeContexts, formatRange, hull, intersect, isEmpty, MAX_VERSION, NO_VERSIONS, specError } from './spec.ts'
import type { FieldSpec, MessageSpec, Range, StructSpec } from './spec.ts'

function has (r: Range, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

type Presence = boolean | null // null: does not matter (the enclosing struct is not there)

// The range that is `old` in the versions `oldCtx` and `current` in the current versions; in
// bridged versions outside oldCtx anything goes. Keeps `current` itself when it already agrees.
function mergeRange (current: Range, old: Range, bridged: Range, oldCtx: Range, codec: Range, where: string): Range {
  let agrees = true
  for (let v = oldCtx.lo; v <= oldCtx.hi; v++) if (has(current, v) !== has(old, v)) agrees = false
  if (agrees) return current
  const at = (v: number): Presence => has(oldCtx, v) ? has(old, v) : has(bridged, v) ? null : has(current, v)
  let lo = -1
  let hi = -1
  for (let v = codec.lo; v <= codec.hi; v++) {
    if (at(v) !== true) continue
    if (lo < 0) lo = v
    hi = v
  }
  if (lo < 0) return NO_VERSIONS
  for (let v = lo; v <= hi; v++) if (at(v) === false) specError(where, `versions ${formatRange(old)} (3.x) and ${formatRange(current)} do not join into one range`)
  return { lo, hi: hi === codec.hi && current.hi === MAX_VERSION ? MAX_VERSION : hi }
}

interface MergeState {
  cur: MessageSpec
  old: MessageSpec
  bridged: Range
  codec: Range
  curStructs: Map<string, StructSpec>
  oldStructs: Map<string, StructSpec> // with contexts computed over the bridged versions only
  merged: Map<string, StructSpec> // current struct name -> merged copy
  pairs: Map<string, string> // current struct name -> old struct name
  imported: StructSpec[] // structs only the old versions use
}

function sameKind (f: FieldSpec, g: FieldSpec): boolean {
  return f.isArray === g.isArray && f.elem === g.elem
}

function mergeField (st: MergeState, f: FieldSpec, g: FieldSpec, oldCtx: Range, where: string): FieldSpec {
  const inOld = intersect(g.versions, oldCtx)
  if (isEmpty(inOld)) return { ...f, versions: mergeRange(f.versions, NO_VERSIONS, st.bridged, oldCtx, st.codec, where) }
  if (!sameKind(f, g)) specError(where, `type ${g.type} in 3.x is ${f.type} now`)
  if (f.tag !== g.tag) specError(where, 'tagged in one release and not in the other')
  if ((f.flexibleVersions === null) !== (g.flexibleVersions === null) ||
    (f.flexibleVersions !== null && g.flexibleVersions !== null && formatRange(f.flexibleVersions) !== formatRange(g.flexibleVersions))) {
    specError(where, 'flexibleVersions differ')
  }
  const versions = mergeRange(f.versions, g.versions, st.bridged, oldCtx, st.codec, where)
  const presentOld = intersect(g.nullableVersions, inOld)
  const nullableVersions = intersect(mergeRange(f.nullableVersions, presentOld, st.bridged, inOld, st.codec, `${where} nullableVersions`), versions)
  if (f.structName !== null && g.structName !== null) mergeStruct(st, f.structName, g.structName)
  return { ...f, versions, nullableVersions }
}

// A field (and the structs under it) that only the old versions have, confined to them.
function importOldField (st: MergeState, g: FieldSpec, where: string): FieldSpec {
  if (g.tag !== null) specError(where, 'a tagged field only the bridged versions have')
  const versions = intersect(g.versions, st.bridged)
  const copy: FieldSpec = { ...g, versions, nullableVersions: intersect(g.nullableVersions, versions) }
  const importStruct = (name: string): void => {
    if (st.curStructs.has(name)) specError(where, `struct ${name} of the bridged versions clashes with a current struct`)
    if (st.imported.some(s => s.name === name)) return
    const s = st.oldStructs.get(name) as StructSpec
    st.imported.push({ ...s, common: false })
    for (const inner of s.fields) if (inner.structName !== null) importStruct(inner.structName)
  }
  if (g.structName !== null) importStruct(g.structName)
  return copy
}

function mergeFields (st: MergeState, curFields: FieldSpec[], oldFields: FieldSpec[], oldCtx: Range, where: string): FieldSpec[] {
  const out = curFields.map(f => f)
  const oldByName = new Map(oldFields.map(g => [g.name, g]))
  // fields of the current definition, matched with their 3.x counterpart
  out.forEach((f, i) => {
    const g = oldByName.get(f.name)
    if (g !== undefined) {
      out[i] = mergeField(st, f, g, oldCtx, `${where}.${f.name}`)
    } else if (!isEmpty(intersect(f.versions, oldCtx))) {
      specError(`${where}.${f.name}`, `on the wire in versions ${formatRange(intersect(f.versions, oldCtx))} but missing from the 3.x definition (renamed?)`)
    }
  })
  // fields only the old versions have, after the field the 3.x definition has before them
  let insertAt = 0
  for (const g of oldFields) {
    const i = out.findIndex(f => f.name === g.name)
    if (i >= 0) {
      insertAt = i + 1
    } else if (!isEmpty(intersect(g.versions, oldCtx))) {
      out.splice(insertAt, 0, importOldField(st, g, `${where}.${g.name}`))
      insertAt++
    }
  }
  return out
}

function mergeStruct (st: MergeState, curName: string, oldName: string): void {
  const paired = st.pairs.get(curName)
  if (paired !== undefined) {
    if (paired !== oldName) specError(st.cur.file, `struct ${curName} matches both ${paired} and ${oldName} of the 3.x definition`)
    return
  }
  st.pairs.set(curName, oldName)
  const cur = st.curStructs.get(curName) as StructSpec
  const old = st.oldStructs.get(oldName)
  if (old === undefined) specError(st.old.file, `unknown struct ${oldName}`)
  const copy: StructSpec = { ...cur, fields: cur.fields }
  st.merged.set(curName, copy)
  copy.fields = mergeFields(st, cur.fields, old.fields, intersect(old.context, st.bridged), `${st.cur.file} ${curName}`)
}

// The regular (not tagged) fields on the wire in `version`, in order.
function wireOrder (fields: FieldSpec[], version: number): string[] {
  return fields.filter(f => f.tag === null && has(f.versions, version)).map(f => `${f.name}:${f.type}${has(f.nullableVersions, version) ? '?' : ''}`)
}

// Every version of every struct reads and writes the fields that its own definition lists, in
// its order, with the same types and nullability.
function verifyWireOrder (merged: MessageSpec, cur: MessageSpec, old: MessageSpec, pairs: Map<string, string>): void {
  const curStructs = new Map(cur.structs.map(s => [s.name, s]))
  const oldStructs = new Map(old.structs.map(s => [s.name, s]))
  const rename = (types: string[]): string[] => {
    const back = new Map([...pairs].map(([c, o]) => [o, c]))
    return types.map(t => t.replace(/^([^:]+):(\[\])?([A-Za-z0-9]+)/, (all, n: string, arr: string | undefined, ty: string) => `${n}:${arr ?? ''}${back.get(ty) ?? ty}`))
  }
  const check = (name: string, fields: FieldSpec[], curFields: FieldSpec[] | null, oldFields: FieldSpec[] | null, context: Range): void => {
    for (let v = context.lo; v <= context.hi; v++) {
      const mine = wireOrder(fields, v)
      const theirs = has(merged.bridgedVersions, v) ? (oldFields === null ? null : rename(wireOrder(oldFields, v))) : (curFields === null ? null : wireOrder(curFields, v))
      if (theirs !== null && mine.join(',') !== theirs.join(',')) specError(merged.file, `${name} v${v} would be read as ${mine.join(', ')} instead of ${theirs.join(', ')}`)
    }
  }
  check(merged.name, merged.fields, cur.fields, old.fields, merged.codecVersions)
  for (const s of merged.structs) {
    const o = pairs.get(s.name)
    check(s.name, s.fields, curStructs.get(s.name)?.fields ?? null, o !== undefined ? (oldStructs.get(o) as StructSpec).fields : null, s.context)
  }
}

export function mergeOldVersions (cur: MessageSpec, old: MessageSpec, bridged: Range, oldSource: string): MessageSpec {
  for (let v = bridged.lo; v <= bridged.hi; v++) {
    if (has(cur.flexibleVersions, v) !== has(old.flexibleVersions, v)) specError(old.file, `version ${v} is flexible in one release and not in the other`)
  }
  const oldView: MessageSpec = { ...old, codecVersions: bridged, structs: old.structs.map(s => ({ ...s })) }
  computeContexts(oldView)
  const st: MergeState = {
    cur,
    old,
    bridged,
    codec: hull(bridged, cur.validVersions),
    curStructs: new Map(cur.structs.map(s => [s.name, s])),
    oldStructs: new Map(oldView.structs.map(s => [s.name, s])),
    merged: new Map(),
    pairs: new Map(),
    imported: []
  }
  const fields = mergeFields(st, cur.fields, old.fields, bridged, cur.file)
  const merged: MessageSpec = {
    ...cur,
    codecVersions: st.codec,
    bridgedVersions: bridged,
    bridgedFrom: oldSource,
    fields,
    structs: [...cur.structs.map(s => st.merged.get(s.name) ?? { ...s }), ...st.imported.map(s => ({ ...s }))]
  }
  computeContexts(merged)
  verifyWireOrder(merged, cur, old, st.pairs)
  return merged
}
