// The (API key, version) pairs one connection used: a bitset of MAX_API_KEYS x MAX_VERSIONS bits
// (512 bytes, allocated on the first request), set for every request frame, so the readiness
// report costs one index computation and an OR per frame, never an allocation.
import { MAX_API_KEYS, MAX_VERSIONS } from '../metrics/metrics-registry.ts'

const WORDS = (MAX_API_KEYS * MAX_VERSIONS) >>> 5

export class ApiVersionSet {
  #bits: Uint32Array | null = null

  add (apiKey: number, apiVersion: number): void {
    if (apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) return
    const i = apiKey * MAX_VERSIONS + apiVersion
    const bits = this.#bits ?? (this.#bits = new Uint32Array(WORDS))
    bits[i >>> 5] = bits[i >>> 5]! | (1 << (i & 31))
  }

  has (apiKey: number, apiVersion: number): boolean {
    if (this.#bits === null || apiKey >>> 0 >= MAX_API_KEYS || apiVersion >>> 0 >= MAX_VERSIONS) return false
    const i = apiKey * MAX_VERSIONS + apiVersion
    return (this.#bits[i >>> 5]! & (1 << (i & 31))) !== 0
  }

  get empty (): boolean {
    return this.#bits === null || this.#bits.every(w => w === 0)
  }

  // Every pair set in `other` is set here too.
  addAll (other: ApiVersionSet): void {
    const from = other.#bits
    if (from === null) return
    const bits = this.#bits ?? (this.#bits = new Uint32Array(WORDS))
    for (let w = 0; w < WORDS; w++) bits[w] = bits[w]! | from[w]!
  }

  // The pairs as packed numbers (apiKey * MAX_VERSIONS + version), ascending: what crosses threads.
  toPacked (): number[] {
    const out: number[] = []
    const bits = this.#bits
    if (bits === null) return out
    for (let w = 0; w < WORDS; w++) {
      let word = bits[w]!
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word)
        out.push(w * 32 + b)
        word &= word - 1
      }
    }
    return out
  }

  static fromPacked (packed: readonly number[]): ApiVersionSet {
    const set = new ApiVersionSet()
    for (const i of packed) set.add(Math.floor(i / MAX_VERSIONS), i % MAX_VERSIONS)
    return set
  }
}

export function unpackApiVersion (packed: number): { apiKey: number, apiVersion: number } {
  return { apiKey: Math.floor(packed / MAX_VERSIONS), apiVersion: packed % MAX_VERSIONS }
}
