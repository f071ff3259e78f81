// What a PromQL expression names, for the dashboards-as-code tests: its metric names and the
// label names it matches on or groups by. A small scanner, not a parser: enough for the queries
// kproxy ships (promtool checks their syntax separately), strict enough to catch a misspelt or
// renamed metric or label.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan'])
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g

// Grafana's variables, replaced so that the expression is plain PromQL.
export function grafanaToPromql (expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*')
}

export interface Named {
  metrics: string[]
  labels: string[]
}

export function promqlNames (expr: string): Named {
  const labels = new Set<string>()
  // strings first (a brace or a name inside one is text), then label matchers: name op "..."
  let s = grafanaToPromql(expr).replace(STRING, '\u0001')
  s = s.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const m of inner.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\u0001/g)) labels.add(m[1]!)
    return ' '
  })
  s = s.replace(/\u0001/g, ' ')
  s = s.replace(/\[[^\]]*\]/g, ' ')
  s = s.replace(GROUPING, (_m, _kw: string, inner: string) => {
    for (const l of inner.split(',').map(x => x.trim()).filter(Boolean)) labels.add(l)
    return ' '
  })
  const metrics = new Set<string>()
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const before = s[m.index - 1] ?? ' '
    if (/[0-9.]/.test(before)) continue // 1e3, 0.5
    const after = s.slice(m.index + m[0].length)
    if (/^\s*\(/.test(after)) continue // a function or aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue
    metrics.add(m[0])
  }
  return { metrics: [...metrics], labels: [...labels] }
}

export interface Exposition {
  // sample names (a summary's _sum and _count included) and family names from # TYPE
  names: Set<string>
  // sample name -> label names seen on it
  labels: Map<string, Set<string>>
}

export function readExposition (text: string): Exposition {
  const names = new Set<string>()
  const labels = new Map<string, Set<string>>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line)
    if (type !== null) { names.add(type[1]!); continue }
    if (line === '' || line.startsWith('#')) continue
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})? /.exec(line)
    if (m === null) continue
    names.add(m[1]!)
    let set = labels.get(m[1]!)
    if (set === undefined) labels.set(m[1]!, set = new Set())
    for (const l of (m[3] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="(?:[^"\\]|\\.)*"/g)) set.add(l[1]!)
  }
  return { names, labels }
}
