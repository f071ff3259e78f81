// The flow graph: clients (client id, principal, software) -> topics -> brokers, one edge per
// pair, as thick as its bytes per second (produced plus fetched) and coloured by its error rate.
// Click a topic for its partitions. Everything a client chose (client id, topic, principal,
// software name) is text in the SVG, never markup.
import { registerPanel } from '../panel-registry.js'
import { el, svg, clear, table } from '../dom.js'
import { byteRate, bytes, count, percent, rate } from '../format.js'

const MAX_NODES = 24
const NODE_H = 34
const GAP = 8
const COL_W = 230
const MIN_EDGE = 1.5
const MAX_EDGE = 18
// error rate at which an edge is fully red
const RED_AT = 0.05

function errorColour (fraction) {
  const f = Math.min(1, (fraction ?? 0) / RED_AT)
  return `hsl(${Math.round(120 * (1 - f))}, 60%, 38%)`
}

function clientKey (f) {
  return `${f.principal ?? ''}\u0000${f.clientId ?? ''}\u0000${f.softwareName ?? ''}\u0000${f.softwareVersion ?? ''}`
}

function clientLabel (f) {
  return f.clientId === null || f.clientId === '' ? '(no client id)' : f.clientId
}

function clientDetail (f) {
  const software = f.softwareName === null ? null : `${f.softwareName} ${f.softwareVersion ?? ''}`.trim()
  return [f.principal, software].filter(x => x !== null && x !== '').join(' · ')
}

// Nodes of one column with their traffic, busiest first; past MAX_NODES they share one node.
function column (flows, keyOf, labelOf, detailOf) {
  const nodes = new Map()
  for (const f of flows) {
    const k = keyOf(f)
    let n = nodes.get(k)
    if (n === undefined) nodes.set(k, n = { key: k, label: labelOf(f), detail: detailOf(f), rate: 0, total: 0 })
    n.rate += (f.bytesInPerSecond ?? 0) + (f.bytesOutPerSecond ?? 0)
    n.total += f.bytesIn + f.bytesOut
  }
  const sorted = [...nodes.values()].sort((a, b) => b.rate - a.rate || b.total - a.total)
  const index = new Map()
  sorted.forEach((n, i) => index.set(n.key, Math.min(i, MAX_NODES - 1)))
  const shown = sorted.slice(0, MAX_NODES)
  if (sorted.length > MAX_NODES) shown[MAX_NODES - 1] = { key: '\u0001more', label: `(${sorted.length - MAX_NODES + 1} more)`, detail: '', rate: 0, total: 0, more: true }
  return { nodes: shown, index }
}

function edges (flows, from, to, fromKey, toKey) {
  const out = new Map()
  for (const f of flows) {
    const a = from.index.get(fromKey(f))
    const b = to.index.get(toKey(f))
    const k = `${a}:${b}`
    let e = out.get(k)
    if (e === undefined) out.set(k, e = { a, b, rate: 0, total: 0, errors: 0, requests: 0, errorsTotal: 0, requestsTotal: 0, produced: 0, fetched: 0 })
    e.rate += (f.bytesInPerSecond ?? 0) + (f.bytesOutPerSecond ?? 0)
    e.produced += f.bytesInPerSecond ?? 0
    e.fetched += f.bytesOutPerSecond ?? 0
    e.total += f.bytesIn + f.bytesOut
    e.errors += f.errorsPerSecond ?? 0
    e.requests += f.requestsPerSecond ?? 0
    e.errorsTotal += f.errors
    e.requestsTotal += f.requests
  }
  return [...out.values()]
}

function errorRate (e) {
  if (e.requests > 0) return e.errors / e.requests
  return e.requestsTotal > 0 ? e.errorsTotal / e.requestsTotal : 0
}

registerPanel({
  id: 'flows',
  title: 'Flows: clients → topics → brokers',
  sources: ['/api/flows'],
  wide: true,
  create (body, ctx) {
    const graphBox = el('div', { class: 'flow-graph' })
    const legend = el('div', { class: 'legend' },
      el('span', {}, 'edge width: bytes/s produced + fetched'),
      el('span', {}, el('i', { class: 'legend-ok' }), ' colour: error rate 0 → ', String(RED_AT * 100), ' %'))
    const partitionsBox = el('div')
    body.append(graphBox, legend, partitionsBox)
    let selectedTopic = null

    async function showPartitions (topic) {
      selectedTopic = topic
      const answer = await ctx.fetchJson(`/api/flows?limit=1&topic=${encodeURIComponent(topic)}`)
      if (selectedTopic !== topic) return
      clear(partitionsBox).append(
        el('h2', {}, 'Partitions of ', el('span', { class: 'topic-name' }, topic)),
        table(['partition', 'produced/s', 'fetched/s', 'produced', 'fetched', 'errors'], (answer.partitions ?? []).map(p => [
          String(p.partition), byteRate(p.bytesInPerSecond), byteRate(p.bytesOutPerSecond), bytes(p.bytesIn), bytes(p.bytesOut), count(p.errors)])))
    }

    return {
      update (data) {
        const answer = data['/api/flows']
        clear(graphBox)
        if (!answer.recorded) {
          graphBox.append(el('p', { class: 'hint' }, 'Flows are not recorded. Set `stats.flows: true` in the configuration: each worker then reads the topics and record sizes of every Produce request and Fetch response.'))
          return
        }
        const flows = answer.flows
        if (flows.length === 0) {
          graphBox.append(el('p', { class: 'hint' }, 'No Produce or Fetch traffic counted in flows yet.'))
          return
        }
        const clients = column(flows, clientKey, clientLabel, clientDetail)
        const topics = column(flows, f => f.topic, f => f.topic, () => '')
        const targets = column(flows, f => f.target, f => f.target, () => '')
        const clientTopic = edges(flows, clients, topics, clientKey, f => f.topic)
        const topicTarget = edges(flows, topics, targets, f => f.topic, f => f.target)
        const maxRate = Math.max(1, ...clientTopic.map(e => e.rate), ...topicTarget.map(e => e.rate))
        const rows = Math.max(clients.nodes.length, topics.nodes.length, targets.nodes.length)
        const height = 30 + rows * (NODE_H + GAP)
        const xs = [10, 10 + COL_W + 170, 10 + 2 * (COL_W + 170)]
        const width = xs[2] + COL_W + 10
        const y = i => 30 + i * (NODE_H + GAP)
        const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'flow graph' })
        ;['clients', 'topics', 'brokers'].forEach((t, i) => root.append(svg('text', { x: xs[i], y: 16, class: 'col-title' }, t)))
        const drawEdges = (list, x1, x2) => {
          for (const e of list) {
            const y1 = y(e.a) + NODE_H / 2
            const y2 = y(e.b) + NODE_H / 2
            const w = MIN_EDGE + (MAX_EDGE - MIN_EDGE) * Math.sqrt(e.rate / maxRate)
            const mid = (x1 + x2) / 2
            const path = svg('path', { class: 'edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, stroke: errorColour(errorRate(e)), 'stroke-width': w.toFixed(1), 'data-rate': e.rate.toFixed(1) })
            path.append(svg('title', {}, `${byteRate(e.produced)} produced, ${byteRate(e.fetched)} fetched; ${rate(e.requests)} requests, error rate ${percent(errorRate(e))}; ${bytes(e.total)} since start`))
            root.append(path)
          }
        }
        drawEdges(clientTopic, xs[0] + COL_W, xs[1])
        drawEdges(topicTarget, xs[1] + COL_W, xs[2])
        const drawNodes = (col, x, kind) => col.nodes.forEach((n, i) => {
          const g = svg('g', { class: `node ${kind}${kind === 'topic' && n.key === selectedTopic ? ' selected' : ''}`, transform: `translate(${x},${y(i)})`, 'data-kind': kind })
          g.append(svg('rect', { width: COL_W, height: NODE_H, rx: 5 }))
          g.append(svg('text', { x: 8, y: n.detail === '' ? 21 : 14, class: 'label' }, n.label.length > 34 ? n.label.slice(0, 33) + '…' : n.label))
          if (n.detail !== '') g.append(svg('text', { x: 8, y: 28, class: 'detail', 'font-size': 10 }, n.detail.length > 40 ? n.detail.slice(0, 39) + '…' : n.detail))
          g.append(svg('title', {}, [n.label, n.detail, `${byteRate(n.rate)} (${bytes(n.total)} since start)`].filter(Boolean).join('\n')))
          if (kind === 'topic' && n.more !== true) g.addEventListener('click', () => { showPartitions(n.key).catch(err => ctx.error(err)) })
          root.append(g)
        })
        drawNodes(clients, xs[0], 'client')
        drawNodes(topics, xs[1], 'topic')
        drawNodes(targets, xs[2], 'target')
        graphBox.append(root)
        if (answer.total > answer.shown) graphBox.append(el('p', { class: 'hint' }, `The ${answer.shown} busiest of ${answer.total} flows.`))
        if (answer.overflow.flows > 0) graphBox.append(el('p', { class: 'hint' }, `${answer.overflow.flows} flows beyond stats.maxFlows are counted under "other".`))
        if (selectedTopic !== null) showPartitions(selectedTopic).catch(err => ctx.error(err))
      }
    }
  }
})
