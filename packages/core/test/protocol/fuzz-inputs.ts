// The fuzzing helpers of the protocol tests: a deterministic random source (a failure reproduces
// from its seed) and malformed variants of a valid encoding. Used by generated/bad-input.test.ts
// (every API and version, bridged ones included) and message-set-bad-input.test.ts (the old
// message formats and their conversions).

// xorshift32
export function rng (seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
}

export interface Mutant {
  label: string
  bytes: Buffer
}

// About 100 variants of `valid`: truncations, random bytes, huge or negative int32/int16 and
// varint lengths written at random places, single flipped bits. `fix` may repair a variant (e.g.
// recompute a checksum) so that the mutation reaches the parser behind the check.
export function mutants (valid: Buffer, seed: number, fix: (b: Buffer) => Buffer = b => b): Mutant[] {
  const next = rng(seed)
  const out: Mutant[] = []
  const step = Math.max(1, Math.floor(valid.length / 40))
  for (let cut = 0; cut < valid.length; cut += cut < 24 ? 1 : step) out.push({ label: `cut ${cut}`, bytes: valid.subarray(0, cut) })
  for (let i = 0; i < 20; i++) {
    const b = Buffer.alloc(next() % 64)
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff
    out.push({ label: `random ${i}`, bytes: b })
  }
  if (valid.length === 0) return out
  const patterns = [[0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xfe], [0x80, 0x00], [0xff, 0xff, 0xff, 0xff, 0x0f], [0xfe, 0xff, 0xff, 0xff, 0x07], [0x7f, 0xff], [0, 0, 0, 0]]
  for (let i = 0; i < 24; i++) {
    const b = Buffer.from(valid)
    const p = patterns[i % patterns.length]
    const at = next() % b.length
    for (let j = 0; j < p.length && at + j < b.length; j++) b[at + j] = p[j]
    out.push({ label: `pattern ${i} at ${at}`, bytes: fix(b) })
  }
  for (let i = 0; i < 16; i++) {
    const b = Buffer.from(valid)
    b[next() % b.length] ^= 1 << (next() % 8)
    out.push({ label: `flip ${i}`, bytes: fix(b) })
  }
  return out
}
