// Mesh mode's routing rules: which cluster a client's topic (or group, or transactional id) lives
// on, and under which name. Ordered rules, first match wins:
//   prefix  'apples'       -> every name starting with it; rename replaces the prefix
//                             ('apples' -> 'fruit.apples' makes 'apples.x' 'fruit.apples.x')
//   exact   'orders'       -> that name only; rename is the whole upstream name
//   regex   '^logs-.*$'    -> names it matches; no rename (it could not be undone)
// Names no rule matches go to the default cluster unchanged, or nowhere (then the client gets
// UNKNOWN_TOPIC_OR_PARTITION). Going back (an upstream name in Metadata to the client's name) is
// the inverse of the rule whose upstream side matches, checked by routing the result forward
// again: a name that does not come back to the same cluster and name is not shown at all.
// A topic of kproxy's own (the mesh's producer id log) is hidden: no client name routes to it.
// Pure logic: the config check and the workers use the same code.

export type MatchKind = 'prefix' | 'exact' | 'regex'

export interface MeshRule {
  readonly kind: MatchKind
  // the prefix, the exact name or the regular expression's source
  readonly match: string
  readonly cluster: string
  // prefix / exact: the upstream side; null: the same name
  readonly rename: string | null
}

export interface Routed {
  readonly cluster: string
  readonly name: string
}

export class TopicRouter {
  readonly rules: readonly MeshRule[]
  readonly defaultCluster: string | null
  readonly #hidden: Routed | null
  readonly #regexes: Array<RegExp | null>
  // memo of forward routes: clients ask for the same few names all the time
  readonly #memo = new Map<string, Routed | null>()

  constructor (rules: readonly MeshRule[], defaultCluster: string | null, hidden: Routed | null = null) {
    this.rules = rules
    this.defaultCluster = defaultCluster
    this.#hidden = hidden
    this.#regexes = rules.map(r => r.kind === 'regex' ? new RegExp(r.match) : null)
  }

  // The cluster and upstream name of a client's name; null: no route.
  route (name: string): Routed | null {
    const hit = this.#memo.get(name)
    if (hit !== undefined) return hit
    let routed = this.#route(name)
    if (routed !== null && this.#hidden !== null && routed.cluster === this.#hidden.cluster && routed.name === this.#hidden.name) routed = null
    if (this.#memo.size > 100_000) this.#memo.clear()
    this.#memo.set(name, routed)
    return routed
  }

  #route (name: string): Routed | null {
    const rules = this.rules
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      switch (r.kind) {
        case 'prefix':
          if (name.startsWith(r.match)) return { cluster: r.cluster, name: r.rename === null ? name : r.rename + name.slice(r.match.length) }
          break
        case 'exact':
          if (name === r.match) return { cluster: r.cluster, name: r.rename ?? name }
          break
        case 'regex':
          if (this.#regexes[i]!.test(name)) return { cluster: r.cluster, name }
          break
      }
    }
    return this.defaultCluster === null ? null : { cluster: this.defaultCluster, name }
  }

  // The client's name of an upstream topic of `cluster`; null: clients cannot see it.
  clientName (cluster: string, upstream: string): string | null {
    let candidate: string | null = null
    for (const r of this.rules) {
      if (r.cluster !== cluster) continue
      const side = r.rename ?? r.match
      if (r.kind === 'prefix' && upstream.startsWith(side)) { candidate = r.match + upstream.slice(side.length); break }
      if (r.kind === 'exact' && upstream === side) { candidate = r.match; break }
    }
    candidate ??= upstream
    const back = this.route(candidate)
    return back !== null && back.cluster === cluster && back.name === upstream ? candidate : null
  }
}

// Group ids and transactional ids: ordered prefix rules to a home cluster, then a default.
export class HomeRouter {
  readonly #rules: ReadonlyArray<{ prefix: string, cluster: string }>
  readonly #fallback: string

  constructor (rules: ReadonlyArray<{ prefix: string, cluster: string }>, fallback: string) {
    this.#rules = rules
    this.#fallback = fallback
  }

  home (id: string): string {
    for (const r of this.#rules) if (id.startsWith(r.prefix)) return r.cluster
    return this.#fallback
  }
}

// The conflicts between rules, as sentences (index = the later rule of the two): two rules that
// can match one client name (overlapping), and two routes that put different client names on one
// upstream name (rename collisions). Regular expressions cannot be compared in general: they are
// checked against the other rules' exact names and prefixes.
export function ruleConflicts (rules: readonly MeshRule[], defaultCluster: string | null): Array<{ index: number, message: string }> {
  const out: Array<{ index: number, message: string }> = []
  const describe = (r: MeshRule): string => `${r.kind} '${r.match}'`
  for (let j = 0; j < rules.length; j++) {
    const b = rules[j]!
    for (let i = 0; i < j; i++) {
      const a = rules[i]!
      if (overlaps(a, b)) out.push({ index: j, message: `overlaps rule ${i} (${describe(a)}): a name could match both; allowed: rules that no name matches twice` })
      if (a.cluster === b.cluster && a.kind !== 'regex' && b.kind !== 'regex') {
        const ua: MeshRule = { kind: a.kind, match: a.rename ?? a.match, cluster: a.cluster, rename: null }
        const ub: MeshRule = { kind: b.kind, match: b.rename ?? b.match, cluster: b.cluster, rename: null }
        if ((a.rename !== null || b.rename !== null) && overlaps(ua, ub)) {
          out.push({ index: j, message: `its upstream names (${describe(ub)}) collide with those of rule ${i} (${describe(ua)}) on cluster ${a.cluster}: two client names would be one topic` })
        }
      }
    }
    // a rename into the default cluster's own namespace: a client name not matched by any rule
    // would go there unchanged and meet the renamed one
    if (b.rename !== null && b.cluster === defaultCluster) {
      const upstreamSide: MeshRule = { kind: b.kind, match: b.rename, cluster: b.cluster, rename: null }
      const covered = rules.some(r => r.kind !== 'regex' && covers(r, upstreamSide))
      if (!covered) out.push({ index: j, message: `renames into ${b.kind} '${b.rename}' on the default cluster ${b.cluster}, where a client's topic of that name (matched by no rule) would land too; allowed: a rule that routes '${b.rename}' itself, or another cluster` })
    }
  }
  return out
}

// whether some name matches both rules
function overlaps (a: MeshRule, b: MeshRule): boolean {
  if (a.kind === 'regex' && b.kind === 'regex') return a.match === b.match
  if (a.kind === 'regex') return regexHits(a.match, b)
  if (b.kind === 'regex') return regexHits(b.match, a)
  if (a.kind === 'exact' && b.kind === 'exact') return a.match === b.match
  if (a.kind === 'prefix' && b.kind === 'prefix') return a.match.startsWith(b.match) || b.match.startsWith(a.match)
  const p = a.kind === 'prefix' ? a : b
  const e = a.kind === 'prefix' ? b : a
  return e.match.startsWith(p.match)
}

// whether every name `inner` matches is matched by `outer`
function covers (outer: MeshRule, inner: MeshRule): boolean {
  if (outer.kind === 'exact') return inner.kind === 'exact' && inner.match === outer.match
  return inner.match.startsWith(outer.match)
}

function regexHits (source: string, r: MeshRule): boolean {
  const re = new RegExp(source)
  return re.test(r.match)
}
