// Which statistics are exported, and which are recorded at all: Istio's proxyStatsMatcher idea
// for kproxy's metric families. A regexp matches a series when it matches, as a whole, either
// the family name (`kproxy_requests_total`) or the series as Prometheus writes it
// (`kproxy_requests_total{api="produce",api_key="0",version="9"}`), so a regexp chooses whole
// families or label sets. A series is kept when no inclusion regexp is configured or one matches,
// and no exclusion regexp matches.
//
// Recording: a family whose name an exclusion regexp matches as a whole is not recorded where
// recording costs something per request (kproxy_response_latency_seconds: the HDR histograms).
import { compileStatsRegexp } from './stats-config.ts'
import type { StatsConfig } from './stats-config.ts'

export class StatsSelection {
  readonly #include: RegExp[]
  readonly #exclude: RegExp[]

  constructor (config: Pick<StatsConfig, 'inclusionRegexps' | 'exclusionRegexps'>) {
    this.#include = config.inclusionRegexps.map(compileStatsRegexp)
    this.#exclude = config.exclusionRegexps.map(compileStatsRegexp)
  }

  get selectsAll (): boolean {
    return this.#include.length === 0 && this.#exclude.length === 0
  }

  // Whether the family as a whole is selected (its HELP/TYPE lines are written even when it has
  // no series yet).
  family (name: string): boolean {
    if (this.#include.length > 0 && !this.#include.some(r => r.test(name))) return false
    return !this.#exclude.some(r => r.test(name))
  }

  // Whether one series is kept. `series` is the name with its labels, as in the exposition.
  series (family: string, series: string): boolean {
    if (this.#include.length > 0 && !this.#include.some(r => r.test(family) || r.test(series))) return false
    return !this.#exclude.some(r => r.test(family) || r.test(series))
  }

  // Envoy-style stat names (/stats): the same regexps, against the whole name.
  name (name: string): boolean {
    return this.family(name)
  }

  // false only when an exclusion regexp matches the whole family name
  records (family: string): boolean {
    return !this.#exclude.some(r => r.test(family))
  }
}

export const SELECT_ALL = new StatsSelection({ inclusionRegexps: [], exclusionRegexps: [] })
