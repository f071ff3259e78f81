// Building the page without markup strings: every value that comes from a client (client ids,
// topic names, principals) reaches the DOM as text (textContent, or an attribute set one by one),
// never as HTML, so `<script>` in a client id is shown, not run.
const SVG_NS = 'http://www.w3.org/2000/svg'

// el('td', { class: 'text', title: name }, name, otherNode)
export function el (tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children)
}

export function svg (tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children)
}

function fill (node, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) throw new Error(`event handlers are attached with addEventListener, not as attribute ${k}`)
    node.setAttribute(k, String(v))
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue
    node.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return node
}

export function clear (node) {
  while (node.firstChild !== null) node.firstChild.remove()
  return node
}

// A table with a header row; rows are arrays of cells (a cell: text, a Node, or { text, class }).
export function table (headers, rows, rowClass = () => undefined) {
  const thead = el('thead', {}, el('tr', {}, ...headers.map(h => el('th', {}, h))))
  const tbody = el('tbody', {}, ...rows.map((cells, i) => el('tr', { class: rowClass(i) },
    ...cells.map(c => c !== null && typeof c === 'object' && !(c instanceof Node) ? el('td', { class: c.class, title: c.title }, c.text) : el('td', {}, c)))))
  return el('table', {}, thead, tbody)
}
