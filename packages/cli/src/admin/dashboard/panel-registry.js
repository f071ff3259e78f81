// The dashboard is a list of panels. A panel names the JSON endpoints it reads and renders their
// answers into its own <section>; the page fetches every endpoint some panel needs once per tick
// and hands each panel its data. A feature that lands later (ACL denials, quotas, mesh clusters,
// bridged clients) adds a panel file and one line in panels/index.js, and, when the data may be
// absent (a feature that is off), says so in `available`.
//
// A panel definition:
//   id        unique, used as the section's id
//   title     the heading
//   sources   endpoint paths, e.g. ['/api/overview']; the data object is keyed by them
//   wide      true: spans the whole row
//   available(data) -> boolean   optional; false hides the panel for now
//   create(body) -> { update(data) }   builds the panel's content inside `body` (a <div>)
const panels = []

export function registerPanel (def) {
  if (panels.some(p => p.id === def.id)) throw new Error(`panel ${def.id} is registered twice`)
  panels.push(def)
}

export function registeredPanels () {
  return panels
}
