// What the upstream cluster accepts, per API key, learned from its brokers' ApiVersions answers
// (kproxy's own probe at start, and the answers clients' ApiVersions requests get through kproxy).
// The version bridge asks it whether a request's version must be converted and to which version;
// the readiness report asks which versions a client used that the upstream would refuse.
//
// Brokers of different releases (a rolling upgrade) give different answers. What counts is what
// EVERY broker accepts: the intersection of the distinct answers seen lately (the latest one
// always; others while seen within ANSWER_TTL_MS, so that a finished upgrade stops counting the
// old release). A version some broker dropped is then bridged for all, which is safe: the target
// version is one every broker takes. Until anything is learned, the pinned Kafka release's ranges
// stand in for the upstream's.
//
// KAFKA-18659: a Kafka 4 broker advertises Produce from v0 although it refuses v0-2 (librdkafka
// before 2.6 turns compression on only when v0 is listed). An answer that drops the old Fetch
// versions (KIP-896 removed both together) is taken to accept Produce only from the pinned
// release's minimum, whatever it says.
import { apiByKey } from '../protocol/api-keys.ts'
import type { VersionRange } from '../protocol/api-keys.ts'
import { ApiKey } from '../protocol/generated/api-table.ts'

export const ANSWER_TTL_MS = 10 * 60_000
const MAX_ANSWERS = 8

interface Answer {
  readonly ranges: Map<number, VersionRange>
  seenAt: number
}

export class UpstreamVersions {
  // signature of the ranges -> answer
  readonly #answers = new Map<string, Answer>()
  #latest: Answer | null = null
  #effective: Map<number, VersionRange> | null = null
  #effectiveAt = 0
  readonly #now: () => number

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  get known (): boolean { return this.#latest !== null }

  // One broker's ApiVersions answer.
  learn (ranges: readonly VersionRange[]): void {
    const dropsOld = (ranges.find(r => r.apiKey === ApiKey.Fetch)?.minVersion ?? 0) > 0
    const map = new Map<number, VersionRange>()
    for (const r of ranges) {
      if (r.minVersion > r.maxVersion) continue
      const min = r.apiKey === ApiKey.Produce && dropsOld ? Math.max(r.minVersion, apiByKey(ApiKey.Produce)!.minVersion) : r.minVersion
      map.set(r.apiKey, { apiKey: r.apiKey, minVersion: min, maxVersion: r.maxVersion })
    }
    const signature = [...map.values()].sort((a, b) => a.apiKey - b.apiKey).map(r => `${r.apiKey}:${r.minVersion}-${r.maxVersion}`).join(',')
    const now = this.#now()
    let answer = this.#answers.get(signature)
    if (answer === undefined) {
      answer = { ranges: map, seenAt: now }
      this.#answers.set(signature, answer)
    }
    answer.seenAt = now
    this.#latest = answer
    this.#effective = null
    for (const [key, a] of this.#answers) {
      if (a !== answer && (now - a.seenAt > ANSWER_TTL_MS || this.#answers.size > MAX_ANSWERS)) this.#answers.delete(key)
    }
  }

  #ranges (): Map<number, VersionRange> | null {
    const latest = this.#latest
    if (latest === null) return null
    const now = this.#now()
    // recomputed now and then, so that answers not seen for ANSWER_TTL_MS stop counting
    if (this.#effective !== null && now - this.#effectiveAt < 60_000) return this.#effective
    const live = [...this.#answers.values()].filter(a => a === latest || now - a.seenAt <= ANSWER_TTL_MS)
    const out = new Map<number, VersionRange>()
    for (const [k, r] of latest.ranges) {
      let min = r.minVersion
      let max = r.maxVersion
      for (const a of live) {
        const o = a.ranges.get(k)
        if (o === undefined) { min = 1; max = 0; break }
        min = Math.max(min, o.minVersion)
        max = Math.min(max, o.maxVersion)
      }
      if (min <= max) out.set(k, { apiKey: k, minVersion: min, maxVersion: max })
    }
    this.#effective = out
    this.#effectiveAt = now
    return out
  }

  // The upstream accepts this version (unknown upstream: the pinned release does).
  accepts (apiKey: number, version: number): boolean {
    const ranges = this.#ranges()
    if (ranges === null) return apiByKey(apiKey)?.supports(version) ?? false
    const r = ranges.get(apiKey)
    return r !== undefined && version >= r.minVersion && version <= r.maxVersion
  }

  // For a version below what the upstream accepts: the lowest version of the API it accepts
  // (the bridge's target), provided kproxy's codecs can write it; -1 when the upstream accepts
  // the version itself, or nothing kproxy can convert it to.
  target (apiKey: number, version: number): number {
    const api = apiByKey(apiKey)
    if (api === undefined || this.accepts(apiKey, version)) return -1
    const ranges = this.#ranges()
    const lo = ranges === null ? api.minVersion : ranges.get(apiKey)?.minVersion ?? -1
    if (lo < 0 || lo <= version) return -1
    return api.decodes(lo) ? lo : -1
  }

  // What every broker accepts, ordered by key; null before the first answer.
  ranges (): VersionRange[] | null {
    const ranges = this.#ranges()
    return ranges === null ? null : [...ranges.values()].sort((a, b) => a.apiKey - b.apiKey)
  }
}
