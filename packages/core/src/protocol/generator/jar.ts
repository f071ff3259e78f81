// Reads entries of a jar (a zip file) through its central directory, with node:zlib only, so that
// generating the codecs needs no `unzip` binary.
//
// Zip grammar (APPNOTE.TXT), all integers little-endian:
//   end of central directory  sig 0x06054b50 | ... | u16 entries @10 | u32 cd size @12 | u32 cd offset @16 | u16 comment length @20
//   central directory entry   sig 0x02014b50 | u16 method @10 | u32 compressed size @20 | u32 size @24
//                             | u16 name len @28 | u16 extra len @30 | u16 comment len @32 | u32 local offset @42 | name @46
//   local header              sig 0x04034b50 | u16 name len @26 | u16 extra len @28 | data @30+name+extra
// Only methods 0 (stored) and 8 (deflate) occur in jars; zip64 archives are refused.
import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import { KproxyError } from '../../kproxy-error.ts'

export interface JarEntry {
  name: string
  method: number
  compressedSize: number
  size: number
  localOffset: number
}

const EOCD_SIG = 0x06054b50
const CEN_SIG = 0x02014b50
const LOC_SIG = 0x04034b50

function bad (path: string, why: string): never {
  throw new KproxyError('KPROXY_ERR_JAR', `${path} is not a readable jar (${why}); delete it and run \`pnpm exec kproxy sandbox fetch\` again.`)
}

export class Jar {
  readonly path: string
  readonly entries: Map<string, JarEntry>
  private readonly data: Buffer

  constructor (path: string, data: Buffer = readFileSync(path)) {
    this.path = path
    this.data = data
    this.entries = new Map()
    // The end record sits in the last 22 bytes plus an optional comment of up to 65535 bytes.
    let eocd = -1
    for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
      if (data.readUInt32LE(i) === EOCD_SIG) {
        eocd = i
        break
      }
    }
    if (eocd < 0) bad(path, 'no end of central directory record')
    const count = data.readUInt16LE(eocd + 10)
    const cdOffset = data.readUInt32LE(eocd + 16)
    if (count === 0xffff || cdOffset === 0xffffffff) bad(path, 'zip64 archives are not supported')
    let p = cdOffset
    for (let i = 0; i < count; i++) {
      if (p + 46 > data.length || data.readUInt32LE(p) !== CEN_SIG) bad(path, `central directory entry ${i} is damaged`)
      const nameLength = data.readUInt16LE(p + 28)
      const entry: JarEntry = {
        method: data.readUInt16LE(p + 10),
        compressedSize: data.readUInt32LE(p + 20),
        size: data.readUInt32LE(p + 24),
        localOffset: data.readUInt32LE(p + 42),
        name: data.toString('utf8', p + 46, p + 46 + nameLength)
      }
      this.entries.set(entry.name, entry)
      p += 46 + nameLength + data.readUInt16LE(p + 30) + data.readUInt16LE(p + 32)
    }
  }

  // Entry names in the archive's order, filtered by a prefix.
  list (prefix = ''): string[] {
    return [...this.entries.keys()].filter(n => n.startsWith(prefix))
  }

  read (name: string): Buffer {
    const e = this.entries.get(name)
    if (e === undefined) bad(this.path, `no entry ${name}`)
    const d = this.data
    if (e.localOffset + 30 > d.length || d.readUInt32LE(e.localOffset) !== LOC_SIG) bad(this.path, `local header of ${name} is damaged`)
    const start = e.localOffset + 30 + d.readUInt16LE(e.localOffset + 26) + d.readUInt16LE(e.localOffset + 28)
    const raw = d.subarray(start, start + e.compressedSize)
    if (raw.length !== e.compressedSize) bad(this.path, `${name} is truncated`)
    let out: Buffer
    if (e.method === 0) out = raw
    else if (e.method === 8) out = inflateRawSync(raw)
    else bad(this.path, `${name} uses compression method ${e.method}`)
    if (out.length !== e.size) bad(this.path, `${name} inflated to ${out.length} bytes, expected ${e.size}`)
    return out
  }

  readText (name: string): string {
    return this.read(name).toString('utf8')
  }
}
